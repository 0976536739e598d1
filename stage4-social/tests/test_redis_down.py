"""Redis down: the timeline is read from PostgreSQL alone, the graph still changes (the
timeline clean-up after the commit is logged and skipped, reads filter by the graph),
and every answer comes in bounded time."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.redis_down import UNREACHABLE_REDIS_URL
from social.config import Settings
from tests.conftest import make_settings
from tests.factories import accounts, follow, post, whole_timeline


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, UNREACHABLE_REDIS_URL)


async def test_the_timeline_comes_from_postgresql_alone(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    reader, author, other = await accounts(db_session, settings, 3)
    await follow(client, reader, author)
    await follow(client, reader, other)
    posts = [await post(client, author, f"post {n}") for n in range(3)]
    posts.append(await post(client, other, "from another author"))

    assert await whole_timeline(client, reader) == posts[::-1]

    unfollowed = await client.delete(
        f"/api/profiles/{author.username}/follow", headers=reader.headers
    )
    assert unfollowed.status_code == 200
    assert await whole_timeline(client, reader) == [posts[-1]]
