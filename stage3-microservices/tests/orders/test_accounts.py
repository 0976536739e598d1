"""Accounts: sign-up, sign-in with argon2id, and tokens signed with the Ed25519 key."""

import jwt
from httpx import AsyncClient

from orders.config import Settings
from roadmap_shared.security.public_keys import (
    TokenSigner,
    generate_private_key_pem,
    public_keys_from_jwks,
)
from roadmap_shared.testing.no_store import assert_no_store

NEW_USER = {"email": "ada@example.com", "name": "Ada", "password": "correct horse battery"}


async def test_sign_up_then_sign_in_gives_an_eddsa_token_naming_its_key_and_role(
    client: AsyncClient,
) -> None:
    registered = await client.post("/auth/register", json=NEW_USER)
    assert registered.status_code == 201
    assert registered.json()["role"] == "customer"
    login = await client.post(
        "/auth/login", json={"email": "ADA@example.com", "password": NEW_USER["password"]}
    )
    assert login.status_code == 200
    assert_no_store(login)
    token = login.json()["access_token"]
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "test", "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["role"] == "customer"
    assert claims["iss"] == "orders"
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == "ada@example.com"


async def test_a_wrong_password_or_a_taken_email_is_refused(client: AsyncClient) -> None:
    await client.post("/auth/register", json=NEW_USER)
    assert (await client.post("/auth/register", json=NEW_USER)).status_code == 409
    wrong = {"email": NEW_USER["email"], "password": "not the password"}
    answer = await client.post("/auth/login", json=wrong)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_jwks_publishes_the_public_key_that_verifies_the_tokens(
    client: AsyncClient, settings: Settings
) -> None:
    answer = await client.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=300"
    (key,) = answer.json()["keys"]
    assert key["kid"] == "test"
    assert "d" not in key  # never the private part
    keys = public_keys_from_jwks(answer.json())
    token = settings.token_signer().encode(
        subject="1", token_type="access", lifetime=settings.access_token_lifetime
    )
    jwt.decode(token.token, keys["test"], algorithms=["EdDSA"], audience="shop")


async def test_a_token_signed_with_another_key_is_refused(client: AsyncClient) -> None:
    for kid in ("test", "unknown"):
        forger = TokenSigner(
            private_keys={kid: generate_private_key_pem()},
            active_kid=kid,
            issuer="orders",
            audience="shop",
        )
        token = forger.encode(
            subject="1", token_type="access", lifetime=Settings().access_token_lifetime
        )
        answer = await client.get("/cart", headers={"Authorization": f"Bearer {token.token}"})
        assert answer.status_code == 401
