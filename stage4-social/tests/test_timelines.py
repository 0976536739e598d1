"""Home timelines: fanned out on write into Redis, merged on read for large accounts,
capped, rebuilt when missing, cleaned by unfollow and block, filtered by mute, and read in
a fixed number of SQL statements."""

from typing import Any

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from social.config import Settings
from social.models import OutboxEvent, Post
from social.timelines import repository
from social.timelines.fanout import FanOut
from social.timelines.store import MARKER, TRIMMED, Entry, TimelineStore
from tests.conftest import LARGE_ACCOUNT_FOLLOWERS, TIMELINE_LENGTH
from tests.factories import (
    Account,
    accounts,
    event_of,
    fan_out,
    follow,
    post,
    timeline_ids,
    whole_timeline,
)


async def members(redis: Redis, store: TimelineStore, user: Account) -> list[str]:
    found: list[str] = await redis.zrange(store.key(user.id), 0, -1)
    return found


async def built(client: AsyncClient, *readers: Account) -> None:
    """Reads each reader's timeline once, so that it exists and fan-out writes to it."""
    for reader in readers:
        await timeline_ids(client, reader)


async def a_fan_reading(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> tuple[Account, Account]:
    """An author, and a fan following them whose timeline exists (it was read once)."""
    author, fan = await accounts(db_session, settings, 2)
    await follow(client, fan, author)
    await built(client, fan)
    return author, fan


async def test_a_post_reaches_the_author_and_every_follower(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, store: TimelineStore
) -> None:
    author, fan, stranger = await accounts(db_session, settings, 3)
    await follow(client, fan, author)
    await built(client, author, fan, stranger)

    post_id = await post(client, author, "fanned out")
    assert await timeline_ids(client, fan) == []  # not until the worker fans it out
    assert await fan_out(db_session, store) == 1

    for reader in [author, fan]:
        page = (await client.get("/api/timeline", headers=reader.headers)).json()
        assert [item["id"] for item in page["items"]] == [post_id]
        assert page["items"][0]["author"]["username"] == author.username
    assert await timeline_ids(client, stranger) == []


async def test_a_redelivered_event_adds_the_post_once(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    author, fan = await a_fan_reading(client, db_session, settings)
    post_id = await post(client, author)
    (row,) = (await db_session.scalars(select(OutboxEvent))).all()

    handler = FanOut(store)
    for _ in range(3):
        await handler.on_post_created(db_session, event_of(row))
    assert await members(redis_client, store, fan) == [MARKER, f"{post_id}:{author.id}"]
    assert await timeline_ids(client, fan) == [post_id]


async def test_a_timeline_keeps_only_its_newest_posts(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    author, fan = await a_fan_reading(client, db_session, settings)
    posts = [await post(client, author, f"post {n}") for n in range(TIMELINE_LENGTH + 3)]
    await fan_out(db_session, store)

    kept = await members(redis_client, store, fan)
    assert kept == [MARKER] + [f"{p}:{author.id}" for p in posts[-TIMELINE_LENGTH:]]
    assert await redis_client.zscore(store.key(fan.id), MARKER) == TRIMMED
    # Past the oldest post Redis kept, the pages come from PostgreSQL: nothing is lost.
    assert await whole_timeline(client, fan) == posts[::-1]


async def test_a_timeline_rebuilt_at_its_cap_pages_on_from_postgresql(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    author, fan = await accounts(db_session, settings, 2)
    await follow(client, fan, author)
    posts = [await post(client, author, f"post {n}") for n in range(TIMELINE_LENGTH + 2)]
    await fan_out(db_session, store)  # nobody's timeline exists yet: written to none

    assert await whole_timeline(client, fan) == posts[::-1]  # the first read rebuilt it
    assert len(await members(redis_client, store, fan)) == TIMELINE_LENGTH + 1
    assert await redis_client.zscore(store.key(fan.id), MARKER) == TRIMMED


async def test_unfollow_and_block_take_the_authors_posts_out(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    reader, left, blocked, kept = await accounts(db_session, settings, 4)
    for author in [left, blocked, kept]:
        await follow(client, reader, author)
    await built(client, reader)
    by_author = {author.id: await post(client, author) for author in [left, blocked, kept]}
    await fan_out(db_session, store)
    assert sorted(await timeline_ids(client, reader)) == sorted(by_author.values())

    await client.delete(f"/api/profiles/{left.username}/follow", headers=reader.headers)
    await client.put(f"/api/profiles/{blocked.username}/block", headers=reader.headers)

    # Out of Redis itself, not only filtered at read time.
    assert await members(redis_client, store, reader) == [
        MARKER,
        f"{by_author[kept.id]}:{kept.id}",
    ]
    assert await timeline_ids(client, reader) == [by_author[kept.id]]


async def test_a_block_by_the_author_takes_their_posts_out_of_the_blocked_timeline(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    author, fan = await a_fan_reading(client, db_session, settings)
    await post(client, author)
    await fan_out(db_session, store)

    await client.put(f"/api/profiles/{fan.username}/block", headers=author.headers)
    assert await members(redis_client, store, fan) == [MARKER]
    assert await timeline_ids(client, fan) == []


async def test_a_fan_out_after_an_unfollow_leaves_the_old_follower_out(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    """The followers are read when the event is handled: an unfollow committed between
    the post and its (first or repeated) delivery is respected."""
    author, fan = await a_fan_reading(client, db_session, settings)
    await post(client, author)
    await client.delete(f"/api/profiles/{author.username}/follow", headers=fan.headers)

    await fan_out(db_session, store)
    assert await members(redis_client, store, fan) == [MARKER]


async def test_muting_hides_an_author_until_unmuted(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, store: TimelineStore
) -> None:
    noisy, reader = await a_fan_reading(client, db_session, settings)
    post_id = await post(client, noisy)
    await fan_out(db_session, store)

    muted = await client.put(f"/api/profiles/{noisy.username}/mute", headers=reader.headers)
    assert muted.status_code == 204
    assert await timeline_ids(client, reader) == []
    await client.delete(f"/api/profiles/{noisy.username}/mute", headers=reader.headers)
    assert await timeline_ids(client, reader) == [post_id]


async def test_a_missing_timeline_is_rebuilt_from_postgresql(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    author, reader = await a_fan_reading(client, db_session, settings)
    posts = [await post(client, author, f"post {n}") for n in range(3)]
    own = await post(client, reader, "mine")
    await fan_out(db_session, store)
    before = await whole_timeline(client, reader)
    assert before == [own, *posts[::-1]]
    assert await redis_client.ttl(store.key(reader.id)) > 0

    await redis_client.delete(store.key(reader.id))  # as if it had expired
    assert await whole_timeline(client, reader) == before
    assert len(await members(redis_client, store, reader)) == len(before) + 1


async def test_a_new_follow_brings_the_authors_recent_posts_in(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, store: TimelineStore
) -> None:
    reader, author = await accounts(db_session, settings, 2)
    await built(client, reader)
    post_id = await post(client, author)
    await fan_out(db_session, store)
    assert await timeline_ids(client, reader) == []

    await follow(client, reader, author)
    assert await timeline_ids(client, reader) == [post_id]


async def test_a_fan_out_during_a_rebuild_is_not_lost(
    db_session: AsyncSession, settings: Settings, store: TimelineStore, client: AsyncClient
) -> None:
    """A post fanned out between the rebuild's query and its write is kept."""
    reader, author = await accounts(db_session, settings, 2)
    await follow(client, reader, author)
    early = await post(client, author)
    await fan_out(db_session, store)  # the reader's timeline does not exist: skipped

    await store.start_rebuild(reader.id)
    entries = await repository.pushed_posts(db_session, reader.id, limit=store.length)
    late = await post(client, author)
    await fan_out(db_session, store)
    await store.finish_rebuild(reader.id, entries)

    assert await timeline_ids(client, reader) == [late, early]


async def test_large_accounts_are_merged_at_read_time_as_full_fan_out_would_show(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    reader, star, small, *fans = await accounts(db_session, settings, 3 + LARGE_ACCOUNT_FOLLOWERS)
    for fan in [reader, *fans[: LARGE_ACCOUNT_FOLLOWERS - 1]]:
        await follow(client, fan, star)
    await follow(client, reader, small)
    await built(client, reader)
    written = []
    for n in range(4):  # interleaved, so the merge has to order them
        written += [await post(client, star, f"star {n}"), await post(client, small, f"small {n}")]
    await fan_out(db_session, store)

    pulled = await db_session.scalars(select(Post.id).where(Post.fan_out_on_read))
    assert sorted(pulled) == written[0::2]  # the star's posts never went to Redis
    assert all(
        not member.endswith(f":{star.id}") for member in await members(redis_client, store, reader)
    )
    hybrid = await whole_timeline(client, reader, limit=3)
    assert hybrid == written[::-1]

    # The same posts, every one fanned out on write: the same timeline.
    await db_session.execute(update(Post).values(fan_out_on_read=False))
    await db_session.execute(update(OutboxEvent).values(published_at=None))
    await store.drop(reader.id)
    await built(client, reader)
    await fan_out(db_session, store)
    assert len(await members(redis_client, store, reader)) == TIMELINE_LENGTH + 1
    assert await whole_timeline(client, reader, limit=3) == hybrid


async def test_a_timeline_page_costs_the_same_statements_for_1_or_20_posts(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    query_counter: Any,
) -> None:
    reader, author, star, *fans = await accounts(db_session, settings, 3 + LARGE_ACCOUNT_FOLLOWERS)
    await follow(client, reader, author)
    for fan in [reader, *fans]:
        await follow(client, fan, star)
    await built(client, reader)
    for n in range(10):
        await post(client, author, f"post {n}")
        await post(client, star, f"star {n}")
    await fan_out(db_session, store)
    await client.put(f"/api/posts/{await post(client, author)}/like", headers=reader.headers)
    await fan_out(db_session, store)

    counts = {}
    for limit in [1, 20]:
        with query_counter() as queries:
            page = await client.get(
                "/api/timeline", params={"limit": limit}, headers=reader.headers
            )
        assert len(page.json()["items"]) == limit  # 21 posts, 20 of them past Redis's cap
        counts[limit] = queries.count
    assert page.json()["items"][0]["liked"] is True
    # The reader, the page's ids (the large accounts' posts to merge, or past Redis's cap
    # the whole page), the page's posts with authors and likes.
    assert counts == {1: 3, 20: 3}, counts


async def test_an_entry_left_behind_by_a_race_is_not_shown(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, store: TimelineStore
) -> None:
    """A fan-out that read the followers just before an unfollow committed pushes after
    the unfollow's clean-up: the entry stays in Redis, and the read leaves it out."""
    author, reader = await a_fan_reading(client, db_session, settings)
    post_id = await post(client, author)
    await client.delete(f"/api/profiles/{author.username}/follow", headers=reader.headers)

    await store.push([reader.id], Entry(post_id, author.id))
    assert await timeline_ids(client, reader) == []


async def test_a_read_renews_the_expiry_and_a_fan_out_does_not(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    store: TimelineStore,
    redis_client: Redis,
) -> None:
    """Timelines kept are those of the users who come back: a fan-out alone never keeps an
    abandoned one alive."""
    author, fan = await a_fan_reading(client, db_session, settings)
    key = store.key(fan.id)
    await redis_client.expire(key, 100)

    await post(client, author)
    await fan_out(db_session, store)
    assert 0 < await redis_client.ttl(key) <= 100
    await timeline_ids(client, fan)
    assert await redis_client.ttl(key) > settings.timeline_ttl_seconds - 100
