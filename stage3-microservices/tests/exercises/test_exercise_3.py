"""Exercise 3 (hard): "tell me when it is back": customers ask to be emailed when a sold-out
variant has stock again, and are, once each, whichever way the stock came back.
`make exercise STAGE=stage3-microservices N=3`"""

from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import OutboxEvent
from notifications.handlers import Notifier
from roadmap_shared.security.public_keys import TokenSigner
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE
from tests.catalog.factories import make_product, variants_of

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 3: PUT /products/{id}/variants/{variant_id}/back-in-stock records a "
    "customer's wish, and stock returning to a sold-out variant writes one "
    "stock.replenished event per wish, for notifications to email (see the README)"
)
REPLENISHED = "stock.replenished"


def customer_token(signer: TokenSigner, subject: str) -> dict[str, str]:
    issued = signer.encode(
        subject=subject,
        token_type=ACCESS_TOKEN_TYPE,
        lifetime=timedelta(minutes=5),
        claims={"role": "customer"},
    )
    return {"Authorization": f"Bearer {issued.token}"}


async def replenished(session: AsyncSession) -> list[dict[str, object]]:
    session.expire_all()
    query = select(OutboxEvent).where(OutboxEvent.event_type == REPLENISHED)
    return [event.payload for event in await session.scalars(query.order_by(OutboxEvent.id))]


async def sold_out_variant(session: AsyncSession) -> tuple[int, int]:
    product = await make_product(session, prices_and_stock=[(1000, 0)])
    (variant,) = await variants_of(session, product)
    return product.id, variant.id


async def ask(
    client: AsyncClient, product_id: int, variant_id: int, headers: dict[str, str], email: str
) -> int:
    path = f"/products/{product_id}/variants/{variant_id}/back-in-stock"
    return (await client.put(path, json={"email": email}, headers=headers)).status_code


async def test_a_wish_is_recorded_once_and_only_for_a_sold_out_variant(
    client: AsyncClient, db_session: AsyncSession, signer: TokenSigner
) -> None:
    product_id, variant_id = await sold_out_variant(db_session)
    ada = customer_token(signer, "101")
    in_stock = await make_product(db_session, prices_and_stock=[(1000, 3)])
    (available,) = await variants_of(db_session, in_stock)

    assert await ask(client, product_id, variant_id, ada, "ada@example.com") == 201, TODO
    again = await ask(client, product_id, variant_id, ada, "ada@example.com")
    assert again == 200, f"{TODO}: asking twice is one wish"
    assert await ask(client, in_stock.id, available.id, ada, "ada@example.com") == 409, TODO
    assert await ask(client, product_id, 999_999, ada, "ada@example.com") == 404, TODO
    assert await ask(client, in_stock.id, variant_id, ada, "ada@example.com") == 404, (
        f"{TODO}: the variant must be the product's"
    )
    assert await ask(client, product_id, variant_id, {}, "ada@example.com") == 401, TODO
    assert await ask(client, product_id, variant_id, ada, "not an email") == 422, TODO


async def test_a_restock_announces_each_wish_once(
    client: AsyncClient, db_session: AsyncSession, signer: TokenSigner, admin: dict[str, str]
) -> None:
    product_id, variant_id = await sold_out_variant(db_session)
    for subject, email in (("101", "ada@example.com"), ("102", "grace@example.com")):
        assert await ask(
            client, product_id, variant_id, customer_token(signer, subject), email
        ) in (
            200,
            201,
        ), TODO

    restock = f"/admin/variants/{variant_id}/stock-adjustments"
    assert (await client.post(restock, json={"delta": 3}, headers=admin)).status_code == 200
    assert (await client.post(restock, json={"delta": 2}, headers=admin)).status_code == 200

    events = await replenished(db_session)
    assert sorted(str(event["email"]) for event in events) == [
        "ada@example.com",
        "grace@example.com",
    ], f"{TODO}: one event per wish, in the restock's transaction, not again after"
    assert {event["variant_id"] for event in events} == {variant_id}, TODO
    assert {event["stock"] for event in events} == {3}, TODO
    assert all(event["product_name"] for event in events), TODO


async def test_stock_given_back_by_a_release_announces_the_wishes_too(
    client: AsyncClient,
    db_session: AsyncSession,
    signer: TokenSigner,
    orders_service: dict[str, str],
) -> None:
    """The last unit was held by a checkout that gave up: its release is a restock too."""
    product = await make_product(db_session, prices_and_stock=[(1000, 1)])
    (variant,) = await variants_of(db_session, product)
    body = {"lines": [{"variant_id": variant.id, "quantity": 1}]}
    held = await client.put("/reservations/order-1", json=body, headers=orders_service)
    assert held.status_code == 201
    ada = customer_token(signer, "101")
    assert await ask(client, product.id, variant.id, ada, "ada@example.com") == 201, TODO

    released = await client.post("/reservations/order-1/release", headers=orders_service)
    assert released.status_code == 200

    events = await replenished(db_session)
    assert [event["email"] for event in events] == ["ada@example.com"], (
        f"{TODO}: every way stock comes back (a release, a lapse, a cancellation) counts"
    )


def test_notifications_reads_the_event() -> None:
    assert REPLENISHED in Notifier.EVENT_TYPES, f"{TODO}: notifications must subscribe to it"
