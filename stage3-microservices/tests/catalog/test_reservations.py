"""Reservations: stock held for the orders service's checkouts, every step idempotent."""

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Product
from catalog.reservations import service
from catalog.reservations.schemas import ReservationLineIn, ReservationRequest
from roadmap_shared.database import utcnow
from tests.catalog.factories import NO_CACHE, make_product, stock_of, variants_of


def lines(*pairs: tuple[int, int]) -> dict[str, list[dict[str, int]]]:
    return {"lines": [{"variant_id": v, "quantity": q} for v, q in pairs]}


async def two_variants(session: AsyncSession) -> tuple[Product, int, int]:
    product = await make_product(session, prices_and_stock=[(1000, 5), (2500, 3)])
    first, second = await variants_of(session, product)
    return product, first.id, second.id


async def test_a_reservation_takes_the_stock_and_records_the_prices(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, second = await two_variants(db_session)
    answer = await client.put(
        "/reservations/order-1", json=lines((first, 2), (second, 1)), headers=orders_service
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "held"
    assert [
        (line["variant_id"], line["quantity"], line["unit_price_amount"]) for line in body["lines"]
    ] == [
        (first, 2, 1000),
        (second, 1, 2500),
    ]
    assert (await stock_of(db_session, first), await stock_of(db_session, second)) == (3, 2)


async def test_the_same_key_and_lines_again_is_the_same_reservation_and_takes_nothing_more(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, _ = await two_variants(db_session)
    made = await client.put("/reservations/order-2", json=lines((first, 2)), headers=orders_service)
    again = await client.put(
        "/reservations/order-2", json=lines((first, 2)), headers=orders_service
    )
    assert (made.status_code, again.status_code) == (201, 200)
    assert again.json() == made.json()
    assert await stock_of(db_session, first) == 3


async def test_the_same_key_with_other_lines_is_a_conflict(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, second = await two_variants(db_session)
    await client.put("/reservations/order-3", json=lines((first, 2)), headers=orders_service)
    for other in (lines((first, 1)), lines((first, 2), (second, 1)), lines((second, 2))):
        answer = await client.put("/reservations/order-3", json=other, headers=orders_service)
        assert answer.status_code == 409
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await stock_of(db_session, first), await stock_of(db_session, second)) == (3, 3)


async def test_not_enough_stock_for_one_line_takes_nothing_for_any(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, second = await two_variants(db_session)
    answer = await client.put(
        "/reservations/order-4", json=lines((first, 2), (second, 4)), headers=orders_service
    )
    assert answer.status_code == 409
    assert "Not enough stock" in answer.json()["detail"]
    assert (await stock_of(db_session, first), await stock_of(db_session, second)) == (5, 3)
    # The key was not used up: a smaller order may try it again.
    retry = await client.put(
        "/reservations/order-4", json=lines((first, 2)), headers=orders_service
    )
    assert retry.status_code == 201


async def test_an_archived_product_cannot_be_reserved(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    product = await make_product(db_session, archived=True)
    (variant,) = await variants_of(db_session, product)
    answer = await client.put(
        "/reservations/x", json=lines((variant.id, 1)), headers=orders_service
    )
    assert answer.status_code == 409


async def test_bad_input_is_a_422_problem(
    client: AsyncClient, orders_service: dict[str, str]
) -> None:
    bad = [
        ("/reservations/ok", lines((2**63 - 1, 1))),  # no such variant
        ("/reservations/ok", lines((1, 0))),
        ("/reservations/ok", lines((1, 1), (1, 2))),  # one variant twice
        ("/reservations/ok", {"lines": []}),
        ("/reservations/ok", {"lines": [{"variant_id": 2**63, "quantity": 1}]}),
        ("/reservations/ok", {"lines": [{"variant_id": 1, "quantity": 1}], "extra": 1}),
        ("/reservations/has%20space", lines((1, 1))),
        ("/reservations/" + "k" * 101, lines((1, 1))),
    ]
    for path, body in bad:
        answer = await client.put(path, json=body, headers=orders_service)
        assert answer.status_code == 422, (path, body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_confirm_is_final_and_idempotent_and_a_confirmed_reservation_is_not_released(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, _ = await two_variants(db_session)
    await client.put("/reservations/order-5", json=lines((first, 2)), headers=orders_service)
    for _ in range(2):
        confirmed = await client.post("/reservations/order-5/confirm", headers=orders_service)
        assert confirmed.status_code == 200
        assert confirmed.json()["status"] == "confirmed"
    refused = await client.post("/reservations/order-5/release", headers=orders_service)
    assert refused.status_code == 409
    assert await stock_of(db_session, first) == 3


async def test_release_returns_the_stock_once_however_often_it_is_sent(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, _ = await two_variants(db_session)
    await client.put("/reservations/order-6", json=lines((first, 2)), headers=orders_service)
    for _ in range(3):
        released = await client.post("/reservations/order-6/release", headers=orders_service)
        assert released.status_code == 200
        assert released.json()["status"] == "released"
    assert await stock_of(db_session, first) == 5
    assert (
        await client.post("/reservations/order-6/confirm", headers=orders_service)
    ).status_code == 409
    again = await client.put(
        "/reservations/order-6", json=lines((first, 2)), headers=orders_service
    )
    assert again.status_code == 409
    assert await stock_of(db_session, first) == 5


async def test_a_release_that_overtakes_its_reservation_makes_the_late_reservation_fail(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    """The saga gave up (a timeout) and compensated before its slow request arrived."""
    _, first, _ = await two_variants(db_session)
    released = await client.post("/reservations/order-7/release", headers=orders_service)
    assert released.status_code == 200
    late = await client.put("/reservations/order-7", json=lines((first, 2)), headers=orders_service)
    assert late.status_code == 409
    assert await stock_of(db_session, first) == 5


async def test_unknown_reservations_are_404(
    client: AsyncClient, orders_service: dict[str, str]
) -> None:
    assert (await client.get("/reservations/nope", headers=orders_service)).status_code == 404
    assert (
        await client.post("/reservations/nope/confirm", headers=orders_service)
    ).status_code == 404


async def lapsed_reservation(
    session: AsyncSession, key: str, variant_id: int, quantity: int
) -> None:
    """A reservation made an hour ago with a one-minute lifetime."""
    request = ReservationRequest(
        lines=[ReservationLineIn(variant_id=variant_id, quantity=quantity)]
    )
    await service.reserve(
        session, NO_CACHE, key, request, ttl=timedelta(minutes=1), now=utcnow() - timedelta(hours=1)
    )
    await session.commit()


async def test_a_lapsed_reservation_gives_its_stock_back_to_the_next_reservation(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, _ = await two_variants(db_session)
    await lapsed_reservation(db_session, "order-8", first, 5)
    assert await stock_of(db_session, first) == 0
    answer = await client.put(
        "/reservations/order-9", json=lines((first, 5)), headers=orders_service
    )
    assert answer.status_code == 201  # the lapsed one's five units came back first
    assert (await client.get("/reservations/order-8", headers=orders_service)).json()[
        "status"
    ] == "expired"
    assert await stock_of(db_session, first) == 0


async def test_a_lapsed_reservation_cannot_be_confirmed(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    _, first, _ = await two_variants(db_session)
    await lapsed_reservation(db_session, "order-10", first, 2)
    answer = await client.post("/reservations/order-10/confirm", headers=orders_service)
    assert answer.status_code == 409
    assert "expired" in answer.json()["detail"]


async def test_the_sweep_returns_the_stock_of_every_lapsed_reservation(
    db_session: AsyncSession,
) -> None:
    _, first, second = await two_variants(db_session)
    await lapsed_reservation(db_session, "a", first, 2)
    await lapsed_reservation(db_session, "b", second, 3)
    assert await service.expire_lapsed(db_session, utcnow()) == 2
    assert (await stock_of(db_session, first), await stock_of(db_session, second)) == (5, 3)
    assert await service.expire_lapsed(db_session, utcnow()) == 0
