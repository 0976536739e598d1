"""`Idempotency-Key`: a retried checkout returns the first order, never a second one."""

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models import IdempotencyKey, Order, User, Variant
from shop.orders import idempotency
from tests.factories import (
    ADDRESS,
    CHECKOUT,
    auth,
    make_product,
    make_user,
    put_in_cart,
    variants_of,
)


async def user_with_a_cart(session: AsyncSession) -> tuple[User, Variant]:
    user = await make_user(session)
    [variant] = await variants_of(session, await make_product(session))
    await put_in_cart(session, user, variant)
    return user, variant


async def test_a_retry_with_the_same_key_replays_the_first_order(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user, _ = await user_with_a_cart(db_session)
    headers = {**auth(settings, user), "Idempotency-Key": "checkout-8d3f"}

    first = await client.post("/orders", json=CHECKOUT, headers=headers)
    retry = await client.post("/orders", json=CHECKOUT, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["location"] == first.headers["location"]
    assert await db_session.scalar(select(func.count()).select_from(Order)) == 1


async def test_the_same_key_with_a_different_body_is_422(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user, _ = await user_with_a_cart(db_session)
    headers = {**auth(settings, user), "Idempotency-Key": "checkout-1"}
    await client.post("/orders", json=CHECKOUT, headers=headers)

    other_address = {"shipping_address": {**ADDRESS, "city": "Paris", "country": "FR"}}
    response = await client.post("/orders", json=other_address, headers=headers)

    assert response.status_code == 422
    assert "different request" in response.json()["detail"]


async def test_keys_belong_to_their_user(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    alice, _ = await user_with_a_cart(db_session)
    bob, _ = await user_with_a_cart(db_session)

    for_alice = await client.post(
        "/orders", json=CHECKOUT, headers={**auth(settings, alice), "Idempotency-Key": "k"}
    )
    for_bob = await client.post(
        "/orders", json=CHECKOUT, headers={**auth(settings, bob), "Idempotency-Key": "k"}
    )

    assert for_alice.status_code == for_bob.status_code == 201
    assert for_alice.json()["id"] != for_bob.json()["id"]


async def test_each_retry_replays_its_own_order(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    bob, _ = await user_with_a_cart(db_session)
    alice, variant = await user_with_a_cart(db_session)

    async def checkout(user: User, key: str) -> dict[str, object]:
        headers = {**auth(settings, user), "Idempotency-Key": key}
        response = await client.post("/orders", json=CHECKOUT, headers=headers)
        assert response.status_code == 201
        body: dict[str, object] = response.json()
        return body

    bobs = await checkout(bob, "k")
    first = await checkout(alice, "k")
    await put_in_cart(db_session, alice, variant)
    second = await checkout(alice, "m")

    # Each key finds its own user's row, and storing one response overwrote no other.
    assert len({bobs["id"], first["id"], second["id"]}) == 3
    assert await checkout(alice, "k") == first
    assert await checkout(alice, "m") == second
    assert await checkout(bob, "k") == bobs


async def test_a_failed_attempt_is_not_remembered(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    headers = {**auth(settings, user), "Idempotency-Key": "after-restock"}
    [variant] = await variants_of(db_session, await make_product(db_session))

    empty = await client.post("/orders", json=CHECKOUT, headers=headers)
    await put_in_cart(db_session, user, variant)
    retried = await client.post("/orders", json=CHECKOUT, headers=headers)

    assert empty.status_code == 409
    assert retried.status_code == 201


async def test_a_malformed_key_is_422(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user, _ = await user_with_a_cart(db_session)

    for key in ("", "x" * 256, "tab\tinside"):
        response = await client.post(
            "/orders", json=CHECKOUT, headers={**auth(settings, user), "Idempotency-Key": key}
        )
        assert response.status_code == 422, key


async def test_keys_are_forgotten_after_their_lifetime(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    old_user, _ = await user_with_a_cart(db_session)
    new_user, _ = await user_with_a_cart(db_session)
    for user in (old_user, new_user):
        await client.post(
            "/orders", json=CHECKOUT, headers={**auth(settings, user), "Idempotency-Key": "k"}
        )
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    await db_session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == old_user.id)
        .values(created_at=two_days_ago)
    )

    forgotten = await idempotency.delete_expired(db_session, older_than=timedelta(hours=24))

    assert forgotten == 1
    remaining = await db_session.scalars(select(IdempotencyKey.user_id))
    assert remaining.all() == [new_user.id]
