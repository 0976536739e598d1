"""Test data: accounts made straight in the database (with a token each, as login would
give), posts and follows through the API, and the fan-out run as the worker runs it."""

import itertools
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import utcnow
from roadmap_shared.messaging import Event
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE
from roadmap_shared.testing.factories import password_hash
from social.config import Settings
from social.models import OutboxEvent, User
from social.timelines.fanout import FanOut
from social.timelines.store import TimelineStore

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    headers: dict[str, str]


def unique_username(prefix: str = "user") -> str:
    return f"{prefix}_{next(_numbers)}"


async def accounts(session: AsyncSession, settings: Settings, count: int = 1) -> list[Account]:
    """`count` users, committed in `session`, each with the headers of a signed-in request."""
    hashed = await password_hash(PASSWORD)
    users = []
    for _ in range(count):
        name = unique_username()
        users.append(
            User(
                username=name,
                email=f"{name}@example.com",
                display_name=f"User {name}",
                password_hash=hashed,
            )
        )
    session.add_all(users)
    await session.commit()
    return [
        Account(user.id, user.username, {"Authorization": f"Bearer {token(settings, user.id)}"})
        for user in users
    ]


def token(settings: Settings, user_id: int) -> str:
    issued = settings.token_codec().encode(
        subject=str(user_id), token_type=ACCESS_TOKEN_TYPE, lifetime=settings.access_token_lifetime
    )
    return issued.token


async def account(session: AsyncSession, settings: Settings) -> Account:
    (made,) = await accounts(session, settings)
    return made


async def follow(client: AsyncClient, who: Account, whom: Account) -> None:
    response = await client.put(f"/api/profiles/{whom.username}/follow", headers=who.headers)
    assert response.status_code == 200, response.text


async def post(client: AsyncClient, author: Account, body: str = "Hello") -> int:
    response = await client.post("/api/posts", json={"body": body}, headers=author.headers)
    assert response.status_code == 201, response.text
    post_id: int = response.json()["id"]
    return post_id


async def timeline_ids(client: AsyncClient, reader: Account, **params: Any) -> list[int]:
    response = await client.get("/api/timeline", params=params, headers=reader.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def whole_timeline(client: AsyncClient, reader: Account, *, limit: int = 2) -> list[int]:
    """Every page of the reader's timeline, following the cursors."""
    ids: list[int] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(100):  # bounded: a cursor that never ends fails the test
        response = await client.get("/api/timeline", params=params, headers=reader.headers)
        assert response.status_code == 200, response.text
        ids += [item["id"] for item in response.json()["items"]]
        if (cursor := response.json()["next_cursor"]) is None:
            return ids
        params["cursor"] = cursor
    raise AssertionError("the timeline's cursors never ended")


def event_of(row: OutboxEvent) -> Event:
    return Event(
        message_id=row.message_id,
        type=row.event_type,
        payload=row.payload,
        attempt=1,
        traceparent=None,
    )


async def fan_out(session: AsyncSession, store: TimelineStore) -> int:
    """Hands every event not yet published to the fan-out handler, in order, as the relay
    and the consumer would, in the test's transaction; how many there were."""
    rows = (
        await session.scalars(
            select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id)
        )
    ).all()
    handlers = FanOut(store).handlers()
    for row in rows:
        await handlers[row.event_type](session, event_of(row))
        row.published_at = utcnow()
    await session.flush()
    return len(rows)
