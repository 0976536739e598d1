"""Exercise 2 (medium): a deleted post leaves the timelines.
`make exercise STAGE=stage4-social N=2`"""

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from social.config import Settings
from social.models import OutboxEvent
from social.timelines.fanout import FanOut, subscription
from social.timelines.store import MARKER, TimelineStore
from tests.factories import accounts, event_of, fan_out, follow, post, timeline_ids

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: deleting a post publishes post.deleted through the outbox, and the fan-out "
    "consumer removes the post from the timelines (see the README)"
)


async def test_a_deleted_post_is_removed_from_every_timeline_once(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    author, fan = await accounts(db_session, settings, 2)
    await follow(client, fan, author)
    for reader in [author, fan]:
        await timeline_ids(client, reader)
    kept, deleted = await post(client, author, "kept"), await post(client, author, "deleted")
    await fan_out(db_session, store)

    assert (await client.delete(f"/api/posts/{deleted}", headers=author.headers)).status_code == 204
    rows = (
        await db_session.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None)))
    ).all()
    assert [row.event_type for row in rows] == ["post.deleted"], (
        f"{TODO}: one post.deleted event in the delete's transaction"
    )
    assert "post.deleted" in subscription(settings).event_types, (
        f"{TODO}: the fan-out consumer subscribes to post.deleted"
    )
    await fan_out(db_session, store)
    await FanOut(store).handlers()["post.deleted"](db_session, event_of(rows[0]))  # again

    for reader in [author, fan]:
        members = await redis_client.zrange(store.key(reader.id), 0, -1)
        assert members == [MARKER, f"{kept}:{author.id}"], TODO
