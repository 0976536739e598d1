"""Exercise 1 (easy): the cheapest in-stock price.
`make exercise STAGE=stage2-ecommerce N=1`"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.queries import QueryLog
from shop.config import Settings
from tests.factories import CHECKOUT, auth, make_product, make_user, put_in_cart, variants_of

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 1: list items show `price_from_in_stock`, and `sort=price_in_stock_asc` "
    "orders by it (see the README)"
)


async def listed(client: AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/products", params=params)
    assert response.status_code == 200, f"{TODO}: {response.text}"
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def cheapest_in_stock(item: dict[str, Any]) -> int | None:
    assert "price_from_in_stock" in item, TODO
    price = item["price_from_in_stock"]
    return None if price is None else int(price["amount"])


async def test_the_cheapest_in_stock_price_is_shown_and_sorted_on(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_product(db_session, name="Bargain gone", prices_and_stock=[(100, 0), (900, 3)])
    await make_product(db_session, name="Steady", prices_and_stock=[(500, 2)])
    await make_product(db_session, name="Sold out", prices_and_stock=[(50, 0)])

    items = await listed(client, sort="price_in_stock_asc")

    shown = [(item["name"], cheapest_in_stock(item)) for item in items]
    # Sold out has no in-stock price: it comes last, whatever its `price_from`.
    assert shown == [("Steady", 500), ("Bargain gone", 900), ("Sold out", None)], TODO
    assert [item["price_from"]["amount"] for item in items] == [500, 100, 50]


async def test_the_new_sort_costs_no_more_statements(
    client: AsyncClient,
    db_session: AsyncSession,
    query_counter: Callable[[], AbstractContextManager[QueryLog]],
) -> None:
    for _ in range(5):
        await make_product(db_session, prices_and_stock=[(100, 0), (200, 1)])
    costs = []
    for sort in ["price_asc", "price_in_stock_asc"]:
        with query_counter() as queries:
            items = await listed(client, sort=sort)
        assert len(items) == 5
        costs.append(queries.count)
    assert costs[0] == costs[1], f"{TODO}: compute it in the list's one aggregate query"


async def test_selling_the_cheapest_last_unit_updates_the_cached_list(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db_session)
    product = await make_product(db_session, prices_and_stock=[(300, 1), (700, 5)])
    cheap, dear = await variants_of(db_session, product)

    async def shown() -> int | None:
        [item] = await listed(client, sort="price_in_stock_asc")
        return cheapest_in_stock(item)

    assert await shown() == 300  # now cached
    await put_in_cart(db_session, buyer, dear)
    first = await client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
    assert first.status_code == 201
    assert await shown() == 300  # a sale that sells nothing out changes nothing shown

    await put_in_cart(db_session, buyer, cheap)
    second = await client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
    assert second.status_code == 201
    assert await shown() == 700, f"{TODO}: selling out the cheapest variant must show at once"

    cancelled = await client.post(
        f"/orders/{second.json()['id']}/cancel", headers=auth(settings, buyer)
    )
    assert cancelled.status_code == 200
    assert await shown() == 300, f"{TODO}: a cancellation that restocks it must show at once"
