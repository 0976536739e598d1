"""No N+1: the statements a list runs do not grow with the number of items on the page."""

from collections.abc import Callable
from contextlib import AbstractContextManager

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.queries import QueryLog
from shop.config import Settings
from tests.factories import CHECKOUT, auth, make_product, make_user, put_in_cart, variants_of

QueryCounter = Callable[[], AbstractContextManager[QueryLog]]


async def test_the_product_list_runs_the_same_statements_for_1_or_20_items(
    client: AsyncClient, db_session: AsyncSession, query_counter: QueryCounter
) -> None:
    for _ in range(20):
        await make_product(db_session, prices_and_stock=[(100, 1), (200, 2)])

    with query_counter() as one_item:
        small = await client.get("/products", params={"size": 1})
    with query_counter() as twenty_items:
        large = await client.get("/products", params={"size": 20})

    assert len(small.json()["items"]) == 1
    assert len(large.json()["items"]) == 20
    assert one_item.count == twenty_items.count, f"{one_item}\n---\n{twenty_items}"
    # The page with its variants, images and total count: one, whatever the page size.
    assert twenty_items.count == 1, str(twenty_items)
    # An empty page too: the statement aggregates the page, so it always returns its row.
    with query_counter() as past_the_end:
        empty = await client.get("/products", params={"size": 20, "page": 2})
    assert empty.json()["items"] == []
    assert past_the_end.count == 1, str(past_the_end)


async def test_the_order_list_runs_the_same_statements_for_1_or_20_orders(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, query_counter: QueryCounter
) -> None:
    user = await make_user(db_session)
    [variant] = await variants_of(
        db_session, await make_product(db_session, prices_and_stock=[(100, 99)])
    )
    for _ in range(20):
        await put_in_cart(db_session, user, variant, 2)
        assert (
            await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))
        ).status_code == 201

    with query_counter() as one_order:
        small = await client.get("/orders", params={"size": 1}, headers=auth(settings, user))
    with query_counter() as twenty_orders:
        large = await client.get("/orders", params={"size": 20}, headers=auth(settings, user))

    assert len(small.json()["items"]) == 1
    assert len(large.json()["items"]) == 20
    assert one_order.count == twenty_orders.count, f"{one_order}\n---\n{twenty_orders}"
