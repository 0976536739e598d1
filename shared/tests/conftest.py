import pytest
from fastapi import FastAPI

from roadmap_shared.settings import AppSettings, Environment
from roadmap_shared.testing.stripe_fixtures import (  # noqa: F401  (pytest collects them)
    localstripe_url,
    stripe_double,
)
from tests.messaging_fixtures import (  # noqa: F401  (pytest collects them)
    amqp,
    messaging_database_url,
    messaging_engine,
    sessions,
    subscription,
)
from tests.sample_app.main import build_app

ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture
def settings() -> AppSettings:
    return AppSettings(
        environment=Environment.TEST, cors_origins=[ALLOWED_ORIGIN], max_body_bytes=1024
    )


@pytest.fixture
def app(settings: AppSettings, database_url: str) -> FastAPI:
    return build_app(settings, database_url)
