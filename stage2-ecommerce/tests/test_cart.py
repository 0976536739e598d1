"""The cart: one per user, no stock taken, prices always today's."""

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models import User, Variant
from tests.factories import auth, make_product, make_user, put_in_cart, variants_of


@pytest.fixture
async def user(db_session: AsyncSession) -> User:
    return await make_user(db_session)


@pytest.fixture
async def variant(db_session: AsyncSession) -> Variant:
    product = await make_product(db_session, name="Notebook", prices_and_stock=[(450, 5)])
    [variant] = await variants_of(db_session, product)
    return variant


async def test_a_new_user_has_an_empty_cart(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    response = await client.get("/cart", headers=auth(settings, user))

    assert response.status_code == 200
    assert response.json() == {"items": [], "subtotal": {"amount": 0, "currency": "EUR"}}


async def test_adding_twice_adds_up_and_the_subtotal_follows(
    client: AsyncClient, user: User, variant: Variant, settings: Settings
) -> None:
    headers = auth(settings, user)

    await client.post("/cart/items", json={"variant_id": variant.id}, headers=headers)
    response = await client.post(
        "/cart/items", json={"variant_id": variant.id, "quantity": 2}, headers=headers
    )

    assert response.status_code == 200
    [line] = response.json()["items"]
    assert line["quantity"] == 3
    assert line["product_name"] == "Notebook"
    assert line["line_total"] == {"amount": 1350, "currency": "EUR"}
    assert line["available"] is True
    assert response.json()["subtotal"]["amount"] == 1350


async def test_changing_and_removing_a_line(
    client: AsyncClient, user: User, variant: Variant, settings: Settings
) -> None:
    headers = auth(settings, user)
    await client.post("/cart/items", json={"variant_id": variant.id}, headers=headers)

    changed = await client.patch(f"/cart/items/{variant.id}", json={"quantity": 7}, headers=headers)
    removed = await client.delete(f"/cart/items/{variant.id}", headers=headers)

    assert changed.json()["items"][0]["quantity"] == 7
    assert changed.json()["items"][0]["available"] is False  # only 5 in stock
    assert removed.json()["items"] == []


async def test_the_cart_shows_todays_price(
    client: AsyncClient, db_session: AsyncSession, user: User, variant: Variant, settings: Settings
) -> None:
    headers = auth(settings, user)
    await client.post("/cart/items", json={"variant_id": variant.id}, headers=headers)
    await db_session.execute(
        update(Variant).where(Variant.id == variant.id).values(price_amount=500)
    )
    await db_session.commit()

    response = await client.get("/cart", headers=headers)

    assert response.json()["items"][0]["unit_price"]["amount"] == 500


async def test_a_line_in_another_currency_is_unavailable_and_not_added_to_the_subtotal(
    client: AsyncClient, db_session: AsyncSession, user: User, variant: Variant, settings: Settings
) -> None:
    # Left over from before the shop changed its currency: checkout would refuse it.
    dollars = await make_product(db_session, prices_and_stock=[(300, 5)], currency="USD")
    [priced_in_dollars] = await variants_of(db_session, dollars)
    await put_in_cart(db_session, user, variant, 2)
    await put_in_cart(db_session, user, priced_in_dollars)

    cart = (await client.get("/cart", headers=auth(settings, user))).json()

    assert [line["available"] for line in cart["items"]] == [True, False]
    assert cart["subtotal"] == {"amount": 2 * 450, "currency": "EUR"}


async def test_only_variants_for_sale_can_be_added(
    client: AsyncClient, db_session: AsyncSession, user: User, settings: Settings
) -> None:
    archived = await make_product(db_session, archived=True)
    [archived_variant] = await variants_of(db_session, archived)
    headers = auth(settings, user)

    unknown = await client.post("/cart/items", json={"variant_id": 999_999}, headers=headers)
    gone = await client.post(
        "/cart/items", json={"variant_id": archived_variant.id}, headers=headers
    )

    assert unknown.status_code == gone.status_code == 404


async def test_quantities_are_bounded(
    client: AsyncClient, user: User, variant: Variant, settings: Settings
) -> None:
    headers = auth(settings, user)
    await client.post(
        "/cart/items", json={"variant_id": variant.id, "quantity": 90}, headers=headers
    )

    past_the_maximum = await client.post(
        "/cart/items", json={"variant_id": variant.id, "quantity": 10}, headers=headers
    )
    for quantity in (0, -1, 100, 2.5):
        invalid = await client.post(
            "/cart/items", json={"variant_id": variant.id, "quantity": quantity}, headers=headers
        )
        assert invalid.status_code == 422, quantity

    assert past_the_maximum.status_code == 409
    assert (await client.get("/cart", headers=headers)).json()["items"][0]["quantity"] == 90


async def test_changing_or_removing_a_line_not_in_the_cart_is_404(
    client: AsyncClient, user: User, variant: Variant, settings: Settings
) -> None:
    headers = auth(settings, user)

    changed = await client.patch(f"/cart/items/{variant.id}", json={"quantity": 1}, headers=headers)
    removed = await client.delete(f"/cart/items/{variant.id}", headers=headers)

    assert changed.status_code == removed.status_code == 404


async def test_a_user_never_sees_or_changes_another_users_cart(
    client: AsyncClient, db_session: AsyncSession, user: User, variant: Variant, settings: Settings
) -> None:
    other = await make_user(db_session)
    await client.post("/cart/items", json={"variant_id": variant.id}, headers=auth(settings, user))

    seen = await client.get("/cart", headers=auth(settings, other))
    removed = await client.delete(f"/cart/items/{variant.id}", headers=auth(settings, other))

    assert seen.json()["items"] == []
    assert removed.status_code == 404
    assert len((await client.get("/cart", headers=auth(settings, user))).json()["items"]) == 1


async def test_the_cart_needs_a_signed_in_user(client: AsyncClient, variant: Variant) -> None:
    for method, path in [
        ("GET", "/cart"),
        ("POST", "/cart/items"),
        ("PATCH", f"/cart/items/{variant.id}"),
        ("DELETE", f"/cart/items/{variant.id}"),
    ]:
        response = await client.request(
            method, path, json={"variant_id": variant.id, "quantity": 1}
        )
        assert response.status_code == 401, path
