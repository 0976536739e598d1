"""Checkouts racing for the same stock, over real connections and real commits.

These use `committing_client`: each request has its own connection and transaction, as in
production, so the row locks and the unique index really are contended.
"""

import asyncio

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models import Category, Order, Role, Variant
from tests.factories import (
    CHECKOUT,
    auth,
    make_category,
    make_product,
    make_user,
    put_in_cart,
    variants_of,
)

pytestmark = pytest.mark.slow


async def stock_of(session: AsyncSession, variant_id: int) -> int | None:
    return await session.scalar(
        select(Variant.stock)
        .where(Variant.id == variant_id)
        .execution_options(populate_existing=True)
    )


async def test_fifty_checkouts_for_ten_units_sell_exactly_ten(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    [variant] = await variants_of(
        committed_session, await make_product(committed_session, prices_and_stock=[(1500, 10)])
    )
    buyers = [await make_user(committed_session) for _ in range(50)]
    for buyer in buyers:
        await put_in_cart(committed_session, buyer, variant)

    responses: list[Response] = await asyncio.gather(
        *(
            committing_client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
            for buyer in buyers
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 10 + [409] * 40
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["sku"] == variant.sku
        assert refused.json()["available"] == 0
    assert await stock_of(committed_session, variant.id) == 0
    assert await committed_session.scalar(select(func.count()).select_from(Order)) == 10


async def test_carts_sharing_variants_check_out_together_without_deadlocks(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    # Every buyer wants the same three variants. Taken in random orders, two transactions
    # could each hold a row the other waits for; taken in id order, they queue instead.
    variants = await variants_of(
        committed_session,
        await make_product(committed_session, prices_and_stock=[(100, 100)] * 3),
    )
    buyers = [await make_user(committed_session) for _ in range(20)]
    for n, buyer in enumerate(buyers):
        for variant in variants[n % 3 :] + variants[: n % 3]:  # filled in different orders
            await put_in_cart(committed_session, buyer, variant, 2)

    responses = await asyncio.gather(
        *(
            committing_client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
            for buyer in buyers
        )
    )

    assert [response.status_code for response in responses] == [201] * 20
    for variant in variants:
        assert await stock_of(committed_session, variant.id) == 100 - 20 * 2


async def test_concurrent_retries_with_one_idempotency_key_make_one_order(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(committed_session)
    [variant] = await variants_of(committed_session, await make_product(committed_session))
    await put_in_cart(committed_session, buyer, variant, 3)
    headers = {**auth(settings, buyer), "Idempotency-Key": "double-click"}

    responses = await asyncio.gather(
        *(committing_client.post("/orders", json=CHECKOUT, headers=headers) for _ in range(5))
    )

    assert [response.status_code for response in responses] == [201] * 5
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum(response.headers.get("idempotent-replayed") == "true" for response in responses) == 4
    assert await committed_session.scalar(select(func.count()).select_from(Order)) == 1
    assert await stock_of(committed_session, variant.id) == 10 - 3


async def test_two_checkouts_of_one_cart_at_once_place_one_order(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    # A double click, or two browser tabs, without an Idempotency-Key: the cart is ordered
    # once, and the second request finds it empty rather than charging for it again.
    buyer = await make_user(committed_session)
    [variant] = await variants_of(committed_session, await make_product(committed_session))
    await put_in_cart(committed_session, buyer, variant, 2)

    responses = await asyncio.gather(
        *(
            committing_client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
            for _ in range(5)
        )
    )

    assert sorted(response.status_code for response in responses) == [201] + [409] * 4
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["detail"] == "Your cart is empty"
    assert await committed_session.scalar(select(func.count()).select_from(Order)) == 1
    assert await stock_of(committed_session, variant.id) == 10 - 2


async def test_two_crossing_category_moves_at_once_cannot_make_a_loop(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    # Each move alone is fine; both together would make "a" and "b" each other's parent.
    admin = auth(settings, await make_user(committed_session, role=Role.ADMIN))
    a = await make_category(committed_session)
    b = await make_category(committed_session)

    responses = await asyncio.gather(
        committing_client.patch(
            f"/admin/categories/{a.id}", json={"parent_id": b.id}, headers=admin
        ),
        committing_client.patch(
            f"/admin/categories/{b.id}", json={"parent_id": a.id}, headers=admin
        ),
    )

    assert sorted(response.status_code for response in responses) == [200, 409]
    parents = await committed_session.scalars(
        select(Category.parent_id).where(Category.id.in_([a.id, b.id]))
    )
    assert None in parents.all()  # one of the two is still a root: there is no loop
