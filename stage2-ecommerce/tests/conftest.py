from pathlib import Path

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.factories import settings_for_tests
from shop.config import Settings
from shop.main import create_app
from shop.models import Product, Role
from tests.factories import auth, make_product, make_user


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "media_dir": tmp / "media",
        "mail_dir": tmp / "mail",
        "cache_namespace": "shop-test",
        "jobs_queue": "shop-test:jobs",
        "job_retry_base_seconds": 0.05,
        "tax_rate_basis_points": 2000,
        "low_stock_threshold": 3,
        **overrides,
    }
    return settings_for_tests(Settings, **values)


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("shop"), database_url=database_url, redis_url=redis_url
    )


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no cached page, spent rate
    # limit or queued job leaks from one test into the next.
    return create_app(settings)


@pytest.fixture
async def admin(db_session: AsyncSession, settings: Settings) -> dict[str, str]:
    """The headers of a signed-in admin."""
    return auth(settings, await make_user(db_session, role=Role.ADMIN))


@pytest.fixture
async def product(db_session: AsyncSession) -> Product:
    return await make_product(db_session)
