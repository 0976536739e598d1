"""Without Redis the API still answers: the cache reads from PostgreSQL and the rate
limiter counts in this process. /readyz says the service is degraded, without failing."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from roadmap_shared.testing.redis_down import (
    UNREACHABLE_REDIS_URL,
    assert_limited_after,
    assert_ready_but_degraded,
)
from tests.conftest import make_settings
from tests.factories import PASSWORD, auth, make_article, make_user


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url, UNREACHABLE_REDIS_URL, writes_per_minute=1, logins_per_minute_per_account=3
    )


async def test_reads_and_writes_work_without_redis(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author, tags=["dragons"])
    headers = auth(settings, author)

    listed = await client.get("/api/articles")
    tags = await client.get("/api/tags")
    login = await client.post(
        "/api/users/login", json={"user": {"email": author.email, "password": PASSWORD}}
    )
    # The limit is one write a minute, and this process counts it while Redis is away.
    writes = [
        await client.post(
            "/api/articles",
            json={"article": {"title": f"T{n}", "description": "d", "body": "b"}},
            headers=headers,
        )
        for n in range(2)
    ]
    listed_after = await client.get("/api/articles")

    assert listed.json()["articlesCount"] == 1
    assert tags.json() == {"tags": ["dragons"]}
    assert login.status_code == 200
    assert [write.status_code for write in writes] == [201, 429]
    assert listed_after.json()["articlesCount"] == 2


async def test_without_redis_guessing_passwords_is_still_limited(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await make_user(db_session)
    guess = {"user": {"email": user.email, "password": "not-the-password"}}

    answers = [await client.post("/api/users/login", json=guess) for _ in range(4)]

    assert_limited_after(answers, 3, status=401)


async def test_readiness_reports_redis_down_without_failing(client: AsyncClient) -> None:
    assert_ready_but_degraded(await client.get("/readyz"))
