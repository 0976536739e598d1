"""Orders after checkout: who sees them, and the status machine."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models import Order, Role, User, Variant
from tests.factories import CHECKOUT, auth, make_product, make_user, put_in_cart, variants_of


async def place_order(
    client: AsyncClient, session: AsyncSession, settings: Settings, user: User, *, quantity: int = 2
) -> tuple[dict[str, object], Variant]:
    [variant] = await variants_of(session, await make_product(session))
    await put_in_cart(session, user, variant, quantity)
    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))
    assert response.status_code == 201
    return response.json(), variant


async def stock_of(session: AsyncSession, variant: Variant) -> int | None:
    query = select(Variant.stock).where(Variant.id == variant.id)
    return await session.scalar(query.execution_options(populate_existing=True))


async def test_customers_list_and_read_only_their_own_orders(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    alice, bob = await make_user(db_session), await make_user(db_session)
    first, _ = await place_order(client, db_session, settings, alice)
    second, _ = await place_order(client, db_session, settings, alice)
    bobs, _ = await place_order(client, db_session, settings, bob)

    listed = await client.get("/orders", headers=auth(settings, alice))
    own = await client.get(f"/orders/{first['id']}", headers=auth(settings, alice))
    someone_elses = await client.get(f"/orders/{bobs['id']}", headers=auth(settings, alice))
    missing = await client.get("/orders/999999", headers=auth(settings, alice))

    assert [order["id"] for order in listed.json()["items"]] == [second["id"], first["id"]]
    assert listed.json()["total"] == 2
    assert own.json() == first
    # Not 403: a customer cannot even learn that the order exists.
    assert someone_elses.status_code == missing.status_code == 404
    assert someone_elses.json()["detail"] == missing.json()["detail"]


async def test_orders_need_a_signed_in_user(client: AsyncClient) -> None:
    for method, path in [("GET", "/orders"), ("GET", "/orders/1"), ("POST", "/orders/1/cancel")]:
        assert (await client.request(method, path)).status_code == 401, path


async def test_an_admin_moves_an_order_along_the_happy_path(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, admin: dict[str, str]
) -> None:
    order, _ = await place_order(client, db_session, settings, await make_user(db_session))
    path = f"/admin/orders/{order['id']}/status"

    for status in ("paid", "shipped", "delivered"):
        response = await client.post(path, json={"status": status}, headers=admin)
        assert response.status_code == 200, status
        assert response.json()["status"] == status


@pytest.mark.parametrize(
    ("path_taken", "refused"),
    [
        ([], "shipped"),  # pending cannot skip payment
        ([], "delivered"),
        (["paid", "shipped"], "cancelled"),  # too late to cancel
        (["paid", "shipped"], "paid"),  # no going back
        (["cancelled"], "paid"),  # cancelled is final
        (["paid"], "pending"),  # nothing moves back to pending
    ],
)
async def test_transitions_the_status_machine_does_not_allow_are_409(
    *,
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    admin: dict[str, str],
    path_taken: list[str],
    refused: str,
) -> None:
    order, _ = await place_order(client, db_session, settings, await make_user(db_session))
    path = f"/admin/orders/{order['id']}/status"
    for status in path_taken:
        assert (await client.post(path, json={"status": status}, headers=admin)).status_code == 200

    response = await client.post(path, json={"status": refused}, headers=admin)

    assert response.status_code == 409
    assert response.json()["current_status"] == (path_taken[-1] if path_taken else "pending")


async def test_cancelling_puts_the_stock_back(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    order, variant = await place_order(client, db_session, settings, user, quantity=4)
    assert await stock_of(db_session, variant) == 6

    response = await client.post(f"/orders/{order['id']}/cancel", headers=auth(settings, user))
    again = await client.post(f"/orders/{order['id']}/cancel", headers=auth(settings, user))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert await stock_of(db_session, variant) == 10


async def test_a_paid_order_can_still_be_cancelled_but_a_shipped_one_cannot(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, admin: dict[str, str]
) -> None:
    user = await make_user(db_session)
    paid, _ = await place_order(client, db_session, settings, user)
    shipped, _ = await place_order(client, db_session, settings, user)
    await client.post(f"/admin/orders/{paid['id']}/status", json={"status": "paid"}, headers=admin)
    for status in ("paid", "shipped"):
        await client.post(
            f"/admin/orders/{shipped['id']}/status", json={"status": status}, headers=admin
        )

    cancel_paid = await client.post(f"/orders/{paid['id']}/cancel", headers=auth(settings, user))
    cancel_shipped = await client.post(
        f"/orders/{shipped['id']}/cancel", headers=auth(settings, user)
    )

    assert cancel_paid.status_code == 200
    assert cancel_shipped.status_code == 409


async def test_a_customer_cannot_cancel_someone_elses_order_or_use_admin_routes(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    owner, stranger = await make_user(db_session), await make_user(db_session)
    order, variant = await place_order(client, db_session, settings, owner)
    headers = auth(settings, stranger)

    cancel = await client.post(f"/orders/{order['id']}/cancel", headers=headers)
    ship = await client.post(
        f"/admin/orders/{order['id']}/status", json={"status": "paid"}, headers=headers
    )
    list_all = await client.get("/admin/orders", headers=headers)
    read_any = await client.get(f"/admin/orders/{order['id']}", headers=headers)

    assert cancel.status_code == 404
    assert ship.status_code == list_all.status_code == read_any.status_code == 403
    assert await stock_of(db_session, variant) == 8  # nothing came back


async def test_admins_see_all_orders_filtered_by_status_and_date(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, admin: dict[str, str]
) -> None:
    old, _ = await place_order(client, db_session, settings, await make_user(db_session))
    new, _ = await place_order(client, db_session, settings, await make_user(db_session))
    await client.post(f"/admin/orders/{new['id']}/status", json={"status": "paid"}, headers=admin)
    last_week = datetime.now(UTC) - timedelta(days=7)
    await db_session.execute(
        update(Order).where(Order.id == old["id"]).values(created_at=last_week)
    )
    await db_session.commit()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    everything = await client.get("/admin/orders", headers=admin)
    paid = await client.get("/admin/orders", params={"status": "paid"}, headers=admin)
    recent = await client.get("/admin/orders", params={"placed_after": yesterday}, headers=admin)
    older = await client.get("/admin/orders", params={"placed_before": yesterday}, headers=admin)
    one = await client.get(f"/admin/orders/{old['id']}", headers=admin)

    def ids(response: Response) -> list[int]:
        return [order["id"] for order in response.json()["items"]]

    assert ids(everything) == [new["id"], old["id"]]
    assert ids(paid) == [new["id"]]
    assert ids(recent) == [new["id"]]
    assert ids(older) == [old["id"]]
    assert one.status_code == 200


async def test_admin_order_filters_are_validated(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    for params in (
        {"status": "lost"},
        {"placed_after": "yesterday"},
        {"placed_after": "2026-01-01T00:00:00"},
    ):  # no time zone: ambiguous
        response = await client.get("/admin/orders", params=params, headers=admin)
        assert response.status_code == 422, params
    assert (await client.get("/admin/orders/999999", headers=admin)).status_code == 404
    unknown = await client.post(
        "/admin/orders/999999/status", json={"status": "paid"}, headers=admin
    )
    assert unknown.status_code == 404


@pytest.mark.slow
async def test_two_simultaneous_cancellations_return_the_stock_once(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(committed_session)
    admin = await make_user(committed_session, role=Role.ADMIN)
    [variant] = await variants_of(committed_session, await make_product(committed_session))
    await put_in_cart(committed_session, owner, variant, 4)
    order = (
        await committing_client.post("/orders", json=CHECKOUT, headers=auth(settings, owner))
    ).json()

    responses = await asyncio.gather(
        committing_client.post(f"/orders/{order['id']}/cancel", headers=auth(settings, owner)),
        committing_client.post(
            f"/admin/orders/{order['id']}/status",
            json={"status": "cancelled"},
            headers=auth(settings, admin),
        ),
    )

    assert sorted(response.status_code for response in responses) == [200, 409]
    assert await stock_of(committed_session, variant) == 10
