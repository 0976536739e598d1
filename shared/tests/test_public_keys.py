"""Tokens signed with an Ed25519 private key, verified with the public key from a JWKS."""

from datetime import timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI

from roadmap_shared.security.public_keys import (
    JWKS_PATH,
    JwksVerifier,
    TokenSigner,
    generate_private_key_pem,
    public_keys_from_jwks,
)
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken

OLD_KEY = generate_private_key_pem()
NEW_KEY = generate_private_key_pem()
STRANGER_KEY = generate_private_key_pem()


def signer(keys: dict[str, str] | None = None, active: str = "new") -> TokenSigner:
    return TokenSigner(
        private_keys=keys or {"old": OLD_KEY, "new": NEW_KEY},
        active_kid=active,
        issuer="orders",
        audience="shop",
    )


def token(by: TokenSigner, token_type: str = ACCESS_TOKEN_TYPE) -> str:
    return by.encode(subject="7", token_type=token_type, lifetime=timedelta(minutes=5)).token


def test_a_token_verifies_with_the_public_keys_the_signer_publishes() -> None:
    claims = signer().verifier().decode(token(signer()), expected_type="access")
    assert claims["sub"] == "7"
    assert jwt.get_unverified_header(token(signer())) == {
        "alg": "EdDSA",
        "kid": "new",
        "typ": "JWT",
    }


def test_the_jwks_holds_every_key_and_no_private_part() -> None:
    document = signer().jwks()
    assert {key["kid"] for key in document["keys"]} == {"old", "new"}
    for key in document["keys"]:
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # no "d": the private part
    assert set(public_keys_from_jwks(document)) == {"old", "new"}


def test_a_token_signed_by_the_previous_key_still_verifies_after_rotation() -> None:
    before = token(signer(active="old"))
    assert signer(active="new").verifier().decode(before, expected_type="access")["sub"] == "7"


def test_a_token_signed_with_another_private_key_under_a_known_kid_is_refused() -> None:
    forged = token(signer({"new": STRANGER_KEY}))
    with pytest.raises(InvalidToken):
        signer().verifier().decode(forged, expected_type="access")


def test_a_token_with_an_unknown_kid_is_refused() -> None:
    unknown = token(signer({"other": NEW_KEY}, active="other"))
    with pytest.raises(InvalidToken, match="unknown signing key"):
        signer().verifier().decode(unknown, expected_type="access")


def test_an_hmac_token_made_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: the public key is public, so HS256 with it as the secret."""
    public_x = signer().jwks()["keys"][1]["x"]
    forged = jwt.encode(
        {"sub": "7", "iss": "orders", "aud": "shop", "typ": "access"},
        public_x,
        algorithm="HS256",
        headers={"kid": "new"},
    )
    with pytest.raises(InvalidToken):
        signer().verifier().decode(forged, expected_type="access")


def test_the_wrong_token_type_is_refused() -> None:
    with pytest.raises(InvalidToken):
        signer().verifier().decode(token(signer(), "refresh"), expected_type="access")


def test_a_malformed_jwks_gives_no_keys() -> None:
    documents: list[object] = [None, [], {"keys": "x"}, {"keys": [1, {"kty": "OKP"}]}]
    for document in documents:
        assert public_keys_from_jwks(document) == {}
    assert (
        public_keys_from_jwks({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "a", "x": "!!"}]})
        == {}
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def jwks_server(published: list[TokenSigner]) -> tuple[httpx.AsyncClient, list[int]]:
    """An app serving the JWKS of `published[0]` (swap it to rotate), counting requests."""
    app = FastAPI()
    requests: list[int] = []

    @app.get(JWKS_PATH)
    async def jwks() -> dict[str, list[dict[str, str]]]:
        requests.append(1)
        return published[0].jwks()

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://orders"
    ), requests


async def test_the_jwks_verifier_fetches_once_and_caches() -> None:
    http, requests = jwks_server([signer()])
    verifier = JwksVerifier(
        jwks_url=f"http://orders{JWKS_PATH}", issuer="orders", audience="shop", http=http
    )
    for _ in range(5):
        assert (await verifier.decode(token(signer()), expected_type="access"))["sub"] == "7"
    assert len(requests) == 1


async def test_a_new_kid_is_fetched_but_unknown_kids_refetch_at_a_bounded_rate() -> None:
    published = [signer({"old": OLD_KEY}, active="old")]
    http, requests = jwks_server(published)
    clock = Clock()
    verifier = JwksVerifier(
        jwks_url=f"http://orders{JWKS_PATH}",
        issuer="orders",
        audience="shop",
        http=http,
        min_refetch_seconds=30,
        clock=clock,
    )
    await verifier.decode(token(published[0]), expected_type="access")
    made_up = token(signer({"made-up": STRANGER_KEY}, active="made-up"))
    for _ in range(20):
        with pytest.raises(InvalidToken):
            await verifier.decode(made_up, expected_type="access")
    assert len(requests) == 1  # made-up kids within the interval cost nothing

    published[0] = signer()  # rotation: "new" is now active
    clock.now = 31
    assert (await verifier.decode(token(published[0]), expected_type="access"))["sub"] == "7"
    assert len(requests) == 2


async def test_an_unreachable_jwks_refuses_unknown_keys_without_raising_anything_else() -> None:
    http = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # nothing listens on port 9
    verifier = JwksVerifier(
        jwks_url="http://127.0.0.1:9/.well-known/jwks.json",
        issuer="orders",
        audience="shop",
        http=http,
        timeout_seconds=0.5,
    )
    with pytest.raises(InvalidToken):
        await verifier.decode(token(signer()), expected_type="access")
    with pytest.raises(InvalidToken):
        await verifier.decode("not a token", expected_type="access")
