"""Attacks on the access token. Every one gets 401, a problem body, and a
`WWW-Authenticate: Bearer` challenge."""

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from httpx import AsyncClient, Response

from auth_service.config import Settings
from roadmap_shared.database import utcnow
from roadmap_shared.security.tokens import INTEGER_MAX, TokenCodec
from roadmap_shared.testing.factories import TEST_JWT_KEY
from roadmap_shared.testing.hostile_input import access_token, forged_subjects
from tests.factories import SignedIn, bearer


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _codec(settings: Settings, key: str = TEST_JWT_KEY) -> TokenCodec:
    return TokenCodec(
        keys={"test": key},
        active_kid="test",
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def alg_none(victim: SignedIn, _settings: Settings) -> str:
    # The classic: strip the signature and claim it needs none.
    _, payload, _signature = victim.access_token.split(".")
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'test'})}.{payload}."


def wrong_key(victim: SignedIn, settings: Settings) -> str:
    forged = _codec(settings, key="an-attackers-key-also-thirty-two-bytes-long")
    return forged.encode(
        subject=str(victim.user.id),
        token_type="access",
        lifetime=timedelta(minutes=5),
        claims={"sid": _claims(victim.access_token)["sid"]},
    ).token


def expired(victim: SignedIn, settings: Settings) -> str:
    return (
        _codec(settings)
        .encode(
            subject=str(victim.user.id),
            token_type="access",
            lifetime=timedelta(minutes=15),
            claims={"sid": _claims(victim.access_token)["sid"]},
            now=utcnow() - timedelta(hours=1),
        )
        .token
    )


def from_the_future(victim: SignedIn, settings: Settings) -> str:
    # Issued (iat) and valid from (nbf) an hour from now.
    return (
        _codec(settings)
        .encode(
            subject=str(victim.user.id),
            token_type="access",
            lifetime=timedelta(minutes=15),
            claims={"sid": _claims(victim.access_token)["sid"]},
            now=utcnow() + timedelta(hours=1),
        )
        .token
    )


def tampered(victim: SignedIn, _settings: Settings) -> str:
    # Alice's token, edited to name user 1 (an admin, perhaps), signature kept.
    header, _payload, signature = victim.access_token.split(".")
    return f"{header}.{_b64({**_claims(victim.access_token), 'sub': '1'})}.{signature}"


def refresh_token_as_access(victim: SignedIn, _settings: Settings) -> str:
    return victim.refresh_token


def signed_refresh_typed_token(victim: SignedIn, settings: Settings) -> str:
    # Correctly signed, right user and session, but typed as a refresh token.
    return (
        _codec(settings)
        .encode(
            subject=str(victim.user.id),
            token_type="refresh",
            lifetime=timedelta(minutes=15),
            claims={"sid": _claims(victim.access_token)["sid"]},
        )
        .token
    )


def unknown_key_id(victim: SignedIn, _settings: Settings) -> str:
    return jwt.encode(
        _claims(victim.access_token), TEST_JWT_KEY, algorithm="HS256", headers={"kid": "old"}
    )


def other_algorithm(victim: SignedIn, _settings: Settings) -> str:
    # Signed with the right key but HS512: the algorithm is pinned, not read from the token.
    return jwt.encode(
        _claims(victim.access_token), TEST_JWT_KEY, algorithm="HS512", headers={"kid": "test"}
    )


def no_session_claim(victim: SignedIn, settings: Settings) -> str:
    return (
        _codec(settings)
        .encode(subject=str(victim.user.id), token_type="access", lifetime=timedelta(minutes=5))
        .token
    )


def garbage(_victim: SignedIn, _settings: Settings) -> str:
    return "not-a-jwt"


ATTACKS: list[Callable[[SignedIn, Settings], str]] = [
    alg_none,
    wrong_key,
    expired,
    from_the_future,
    tampered,
    refresh_token_as_access,
    signed_refresh_typed_token,
    unknown_key_id,
    other_algorithm,
    no_session_claim,
    garbage,
]


def assert_refused(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
async def test_a_forged_or_stale_access_token_is_refused(
    client: AsyncClient,
    alice: SignedIn,
    settings: Settings,
    attack: Callable[[SignedIn, Settings], str],
) -> None:
    response = await client.get("/users/me", headers=bearer(attack(alice, settings)))
    assert_refused(response)


async def test_the_genuine_token_works_so_the_attacks_fail_for_their_own_reasons(
    client: AsyncClient, alice: SignedIn
) -> None:
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 200


async def test_a_token_of_a_revoked_session_is_refused(
    client: AsyncClient, alice: SignedIn
) -> None:
    await client.post("/auth/logout", headers=alice.headers)
    assert_refused(await client.get("/users/me", headers=alice.headers))


async def test_a_deactivated_users_token_is_refused_at_once(
    client: AsyncClient, alice: SignedIn, admin: SignedIn
) -> None:
    deactivated = await client.post(f"/users/{alice.user.id}/deactivate", headers=admin.headers)
    assert deactivated.status_code == 200
    assert_refused(await client.get("/users/me", headers=alice.headers))
    refresh = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert_refused(refresh)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic YWxpY2U6c2VjcmV0", "Token abc", "bearer"]
)
async def test_a_missing_or_malformed_authorization_header_is_refused(
    client: AsyncClient, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/users/me", headers=headers)
    assert_refused(response)
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_the_scheme_name_is_case_insensitive(client: AsyncClient, alice: SignedIn) -> None:
    response = await client.get(
        "/users/me", headers={"Authorization": f"bEaReR {alice.access_token}"}
    )
    assert response.status_code == 200


@forged_subjects(largest_user_id=INTEGER_MAX)
async def test_a_signed_token_whose_subject_is_not_a_user_id_is_refused(
    client: AsyncClient, alice: SignedIn, settings: Settings, subject: str
) -> None:
    # Signed with the real key, for Alice's live session: only the subject is wrong.
    token = access_token(_codec(settings), subject, sid=_claims(alice.access_token)["sid"])
    assert_refused(await client.get("/users/me", headers=bearer(token)))
