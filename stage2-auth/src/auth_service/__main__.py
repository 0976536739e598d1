"""`python -m auth_service`: check that PostgreSQL and Redis answer, then serve the API."""

from auth_service.config import get_settings
from roadmap_shared.serve import RequiredService, serve


def main() -> None:
    settings = get_settings()
    serve(
        "auth_service.main:create_app",
        settings,
        [
            RequiredService("PostgreSQL", settings.database_url, "AUTH_DATABASE_URL", "postgres"),
            RequiredService("Redis", settings.redis_url, "AUTH_REDIS_URL", "redis"),
        ],
    )


if __name__ == "__main__":
    main()
