"""The catalog verifies tokens with the public keys the orders service publishes."""

import pytest
from httpx import AsyncClient

from roadmap_shared.security.public_keys import TokenSigner, generate_private_key_pem
from tests.catalog.factories import bearer, service_bearer

RESERVATION = {"lines": [{"variant_id": 1, "quantity": 1}]}


def impostor(kid: str) -> TokenSigner:
    """A signer with a key of its own: the private key of the orders service it does not have."""
    return TokenSigner(
        private_keys={kid: generate_private_key_pem()},
        active_kid=kid,
        issuer="orders",
        audience="shop",
    )


@pytest.mark.parametrize("kid", ["test", "unknown"])
async def test_a_token_not_signed_by_the_orders_key_is_refused(
    client: AsyncClient, kid: str
) -> None:
    """Under the known kid (forged signature) or an unknown one: 401 either way."""
    forger = impostor(kid)
    for headers in (bearer(forger, role="admin"), service_bearer(forger)):
        assert (await client.get("/admin/products/1", headers=headers)).status_code == 401
        answer = await client.put("/reservations/k", json=RESERVATION, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_reservations_are_for_the_orders_service_only(
    client: AsyncClient, customer: dict[str, str], admin: dict[str, str]
) -> None:
    for headers in ({}, customer, admin):
        answer = await client.put("/reservations/k", json=RESERVATION, headers=headers)
        assert answer.status_code == 401


async def test_administration_needs_the_admin_role(
    client: AsyncClient,
    customer: dict[str, str],
    orders_service: dict[str, str],
    admin: dict[str, str],
) -> None:
    assert (await client.get("/admin/products/1")).status_code == 401
    assert (await client.get("/admin/products/1", headers=orders_service)).status_code == 401
    assert (await client.get("/admin/products/1", headers=customer)).status_code == 403
    assert (await client.get("/admin/products/1", headers=admin)).status_code == 404


async def test_the_catalogue_is_public(client: AsyncClient) -> None:
    assert (await client.get("/products")).status_code == 200
