from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from catalog.config import Settings
from catalog.main import create_app
from roadmap_shared.security.public_keys import JWKS_PATH, TokenSigner, generate_private_key_pem
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.plugin import service_database
from tests.catalog.factories import bearer, service_bearer

alembic_ini, database_url, db_engine = service_database("src/catalog/alembic.ini")


@pytest.fixture(scope="session")
def signer() -> TokenSigner:
    """Stands in for the orders service: the only holder of the private key."""
    return TokenSigner(
        private_keys={"test": generate_private_key_pem()},
        active_kid="test",
        issuer="orders",
        audience="shop",
    )


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    tmp: Path = tmp_path_factory.mktemp("catalog")
    return settings_for_tests(
        Settings,
        database_url=database_url,
        redis_url=redis_url,
        media_dir=tmp / "media",
        cache_namespace="catalog-test",
        jwks_url=f"http://orders{JWKS_PATH}",
    )


@pytest.fixture
async def jwks_http(signer: TokenSigner) -> AsyncIterator[httpx.AsyncClient]:
    """What the catalog fetches the public keys with: it reaches the test signer's JWKS."""
    keys = FastAPI()
    keys.get(JWKS_PATH)(signer.jwks)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keys), base_url="http://orders"
    ) as http:
        yield http


@pytest.fixture
def app(settings: Settings, redis_client: Redis, jwks_http: httpx.AsyncClient) -> FastAPI:
    return create_app(settings, jwks_http=jwks_http)


@pytest.fixture
def admin(signer: TokenSigner) -> dict[str, str]:
    return bearer(signer, role="admin")


@pytest.fixture
def customer(signer: TokenSigner) -> dict[str, str]:
    return bearer(signer, role="customer")


@pytest.fixture
def orders_service(signer: TokenSigner) -> dict[str, str]:
    return service_bearer(signer)
