"""`python -m shop`: check PostgreSQL and Redis answer, then serve the API."""

from roadmap_shared.serve import RequiredService, serve
from shop.config import get_settings


def main() -> None:
    settings = get_settings()
    serve(
        "shop.main:create_app",
        settings,
        [
            RequiredService("PostgreSQL", settings.database_url, "SHOP_DATABASE_URL", "postgres"),
            RequiredService("Redis", settings.redis_url, "SHOP_REDIS_URL", "redis"),
        ],
    )


if __name__ == "__main__":
    main()
