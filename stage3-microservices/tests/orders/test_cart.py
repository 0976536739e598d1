from httpx import AsyncClient

from orders.models import MAX_LINE_QUANTITY


async def test_a_cart_holds_lines_a_customer_adds_changes_and_removes(
    client: AsyncClient, customer_auth: dict[str, str]
) -> None:
    added = await client.post(
        "/cart/items", json={"variant_id": 7, "quantity": 2}, headers=customer_auth
    )
    assert added.json() == {"items": [{"variant_id": 7, "quantity": 2}]}
    again = await client.post("/cart/items", json={"variant_id": 7}, headers=customer_auth)
    assert again.json()["items"] == [{"variant_id": 7, "quantity": 3}]
    changed = await client.patch("/cart/items/7", json={"quantity": 1}, headers=customer_auth)
    assert changed.json()["items"] == [{"variant_id": 7, "quantity": 1}]
    removed = await client.delete("/cart/items/7", headers=customer_auth)
    assert removed.json() == {"items": []}
    assert (await client.delete("/cart/items/7", headers=customer_auth)).status_code == 404


async def test_cart_input_is_checked(client: AsyncClient, customer_auth: dict[str, str]) -> None:
    for body in ({"variant_id": 0}, {"variant_id": 2**63}, {"variant_id": 1, "quantity": 0}):
        answer = await client.post("/cart/items", json=body, headers=customer_auth)
        assert answer.status_code == 422
    too_many = {"variant_id": 1, "quantity": MAX_LINE_QUANTITY}
    await client.post("/cart/items", json=too_many, headers=customer_auth)
    assert (
        await client.post("/cart/items", json=too_many, headers=customer_auth)
    ).status_code == 409


async def test_the_cart_needs_a_signed_in_customer(client: AsyncClient) -> None:
    assert (await client.get("/cart")).status_code == 401
    assert (
        await client.get("/cart", headers={"Authorization": "Bearer nonsense"})
    ).status_code == 401
