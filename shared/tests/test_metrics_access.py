"""Who may read `/metrics`: a token holder, or anyone outside production, never the public
of a production service."""

import pytest
from httpx import ASGITransport, AsyncClient, Response
from pydantic import SecretStr

from roadmap_shared.app import create_app
from roadmap_shared.settings import AppSettings, Environment
from roadmap_shared.testing.no_store import assert_no_store

TOKEN = "a-long-random-metrics-token-for-prometheus"


async def get_metrics(settings: AppSettings, headers: dict[str, str] | None = None) -> Response:
    app = create_app(settings, title="Metrics")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/metrics", headers=headers)


@pytest.mark.parametrize("environment", [Environment.DEVELOPMENT, Environment.TEST])
async def test_without_a_token_metrics_are_open_outside_production(
    environment: Environment,
) -> None:
    response = await get_metrics(AppSettings(environment=environment))
    assert response.status_code == 200
    assert "http_requests_total" in response.text


async def test_without_a_token_production_does_not_serve_metrics() -> None:
    response = await get_metrics(AppSettings(environment=Environment.PRODUCTION))
    assert response.status_code == 404
    assert "http_requests_total" not in response.text


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
async def test_with_a_token_metrics_are_refused_without_it(
    environment: Environment, authorization: str | None
) -> None:
    settings = AppSettings(environment=environment, metrics_token=SecretStr(TOKEN))
    headers = {"Authorization": authorization} if authorization is not None else None
    response = await get_metrics(settings, headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "http_requests_total" not in response.text


@pytest.mark.parametrize("environment", list(Environment))
async def test_with_a_token_metrics_are_served_to_its_holder(environment: Environment) -> None:
    settings = AppSettings(environment=environment, metrics_token=SecretStr(TOKEN))
    response = await get_metrics(settings, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "http_requests_total" in response.text
    assert_no_store(response)


def test_a_placeholder_metrics_token_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        AppSettings(environment=Environment.PRODUCTION, metrics_token=SecretStr("change-me"))


def test_an_empty_metrics_token_means_none() -> None:
    # `PREFIX_METRICS_TOKEN=` as `.env.example` has it: no token, not the token "".
    assert AppSettings(metrics_token="").metrics_token is None
