"""End to end, through the gateway: a customer cancels a placed order. Twenty cancels at
once, spread by nginx over both orders instances, give the stock back once and send one
cancellation email; someone else cannot cancel it."""

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.messaging import eventually
from tests.e2e.conftest import Shop
from tests.e2e.factories import CHECKOUT, customer, make_variant, signed_up, stock_of
from tests.e2e.test_events import SETTLE_SECONDS


async def test_twenty_cancels_at_once_return_the_stock_once_and_send_one_email(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    variant = await make_variant(catalog_db, stock=6)
    async with httpx.AsyncClient(base_url=shop.gateway, timeout=60) as http:
        buyer = await customer(http)
        await http.post(
            "/cart/items", json={"variant_id": variant, "quantity": 2}, headers=buyer.headers
        )
        placed = await http.post("/orders", json=CHECKOUT, headers=buyer.headers)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        assert await stock_of(catalog_db, variant) == 4
        stranger = await signed_up(http)
        refused = await http.post(f"/orders/{order_id}/cancel", headers=stranger)
        assert refused.status_code == 404

        answers = await asyncio.gather(
            *(http.post(f"/orders/{order_id}/cancel", headers=buyer.headers) for _ in range(20))
        )

        assert [answer.status_code for answer in answers] == [200] * 20, answers[0].text
        assert {answer.json()["status"] for answer in answers} == {"cancelled"}
        shown = await http.get(f"/orders/{order_id}", headers=buyer.headers)
        assert shown.json()["status"] == "cancelled"
    assert await stock_of(catalog_db, variant) == 6

    def cancellations() -> list[str]:
        subjects = [str(mail["Subject"]) for mail in shop.emails_to(buyer.email)]
        return [subject for subject in subjects if subject.endswith("is cancelled")]

    async def delivered() -> bool:
        return bool(cancellations())

    await eventually(delivered, what="the cancellation email")
    await asyncio.sleep(SETTLE_SECONDS)  # time for a duplicate, if one were coming
    assert cancellations() == [f"Your order #{order_id} is cancelled"]
