"""`python -m conduit`: check that PostgreSQL and Redis answer, then serve the API."""

from conduit.config import get_settings
from roadmap_shared.serve import RequiredService, serve


def main() -> None:
    settings = get_settings()
    serve(
        "conduit.main:create_app",
        settings,
        [
            RequiredService("PostgreSQL", settings.database_url, "BLOG_DATABASE_URL", "postgres"),
            RequiredService("Redis", settings.redis_url, "BLOG_REDIS_URL", "redis"),
        ],
    )


if __name__ == "__main__":
    main()
