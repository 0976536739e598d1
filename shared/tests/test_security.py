import asyncio
import base64
import json
from datetime import datetime, timedelta, tzinfo

import jwt
import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr, ValidationError

from roadmap_shared.database import utcnow
from roadmap_shared.errors import Unauthorized
from roadmap_shared.security import tokens
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.passwords import (
    PasswordCheck,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.security.tokens import (
    INTEGER_MAX,
    InvalidToken,
    TokenCodec,
    subject_user_id,
)
from roadmap_shared.settings import Environment

KEY_2025 = "k" * 32
KEY_2026 = "n" * 32


def codec(keys: dict[str, str] | None = None, active: str = "2026") -> TokenCodec:
    return TokenCodec(
        keys=keys or {"2026": KEY_2026}, active_kid=active, issuer="roadmap", audience="tests"
    )


async def test_a_password_hash_is_argon2id_and_verifies() -> None:
    hashed = await hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await verify_password(hashed, "correct horse battery staple")
    assert not await verify_password(hashed, "wrong")
    assert not needs_rehash(hashed)


async def test_an_unknown_user_never_verifies_but_still_pays_for_a_hash() -> None:
    assert not await verify_password(None, "anything")


async def test_a_corrupt_hash_does_not_verify() -> None:
    assert not await verify_password("not-a-hash", "anything")


async def test_signing_in_checks_the_password_and_upgrades_an_outdated_hash() -> None:
    current = await hash_password("correct horse battery staple")
    outdated = PasswordHasher(time_cost=1, memory_cost=8192).hash("correct horse battery staple")

    assert await check_password(current, "correct horse battery staple") == PasswordCheck(
        matches=True
    )
    upgraded = await check_password(outdated, "correct horse battery staple")
    assert upgraded.matches
    assert upgraded.upgraded_hash is not None
    assert not needs_rehash(upgraded.upgraded_hash)
    assert await verify_password(upgraded.upgraded_hash, "correct horse battery staple")
    for wrong in (current, outdated, None, "not-a-hash"):
        assert await check_password(wrong, "wrong") == PasswordCheck(matches=False)
    assert await check_password(None, "correct horse battery staple") == PasswordCheck(
        matches=False
    )


async def test_hashing_does_not_block_the_event_loop() -> None:
    hashing = asyncio.create_task(hash_password("pw"))
    await asyncio.sleep(0)  # one turn of the loop: the hashing task starts and yields
    # Had it hashed on the loop, the task would be done by the time we run again.
    assert not hashing.done()
    assert (await hashing).startswith("$argon2id$")


def test_a_token_round_trips_with_its_claims() -> None:
    issued = codec().encode(
        subject="42", token_type="access", lifetime=timedelta(minutes=5), claims={"role": "user"}
    )
    claims = codec().decode(issued.token, expected_type="access")
    assert claims["sub"] == "42"
    assert claims["role"] == "user"
    assert claims["jti"] == issued.jti
    assert jwt.get_unverified_header(issued.token) == {"alg": "HS256", "kid": "2026", "typ": "JWT"}


def test_a_token_of_another_type_is_refused() -> None:
    refresh = codec().encode(subject="1", token_type="refresh", lifetime=timedelta(minutes=5))
    with pytest.raises(InvalidToken, match="expected a access token"):
        codec().decode(refresh.token, expected_type="access")


def test_a_token_signed_with_an_old_key_verifies_while_the_key_is_kept() -> None:
    old = codec({"2025": KEY_2025}, active="2025").encode(
        subject="1", token_type="access", lifetime=timedelta(minutes=5)
    )
    rotated = codec({"2025": KEY_2025, "2026": KEY_2026}, active="2026")
    assert rotated.decode(old.token, expected_type="access")["sub"] == "1"
    with pytest.raises(InvalidToken, match="unknown signing key"):
        codec().decode(old.token, expected_type="access")


def test_a_verified_token_is_checked_again_for_its_type_and_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = codec()
    token = verifier.encode(subject="1", token_type="access", lifetime=timedelta(minutes=5))
    for changed in ("2", "3"):  # the callers' copies, verified then kept: the codec's own
        verifier.decode(token.token, expected_type="access")["sub"] = changed

    assert verifier.decode(token.token, expected_type="access")["sub"] == "1"
    with pytest.raises(InvalidToken, match="expected a refresh token"):
        verifier.decode(token.token, expected_type="refresh")

    class SixMinutesLater(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> "SixMinutesLater":
            return cls.fromtimestamp((datetime.now(tz) + timedelta(minutes=6)).timestamp(), tz)

    monkeypatch.setattr(tokens, "datetime", SixMinutesLater)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.decode(token.token, expected_type="access")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "attack",
    ["alg_none", "wrong_key", "expired", "from_the_future", "tampered", "garbage", "no_kid"],
)
def test_forged_and_stale_tokens_are_refused(attack: str) -> None:
    now = utcnow()
    good = codec().encode(subject="1", token_type="access", lifetime=timedelta(minutes=5)).token
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    if attack == "alg_none":
        token = f"{_b64({'alg': 'none', 'kid': '2026'})}.{payload}."
    elif attack == "wrong_key":
        token = (
            codec({"2026": "w" * 32})
            .encode(subject="1", token_type="access", lifetime=timedelta(minutes=5))
            .token
        )
    elif attack == "expired":
        token = (
            codec()
            .encode(
                subject="1",
                token_type="access",
                lifetime=timedelta(minutes=5),
                now=now - timedelta(hours=1),
            )
            .token
        )
    elif attack == "from_the_future":
        token = (
            codec()
            .encode(
                subject="1",
                token_type="access",
                lifetime=timedelta(minutes=5),
                now=now + timedelta(hours=1),
            )
            .token
        )
    elif attack == "tampered":
        token = f"{header}.{_b64({**claims, 'sub': '2'})}.{signature}"
    elif attack == "garbage":
        token = "not.a.token"
    else:
        token = jwt.encode(claims, KEY_2026, algorithm="HS256")
    with pytest.raises(InvalidToken):
        codec().decode(token, expected_type="access")


@pytest.mark.parametrize("subject", ["1", "42", str(2**63 - 1)])
def test_a_subject_naming_a_user_id_is_read(subject: str) -> None:
    assert subject_user_id({"sub": subject}) == int(subject)


@pytest.mark.parametrize(
    "subject",
    [
        str(2**63),
        "9" * 40,
        "abc",
        "-1",
        "0",
        "1e3",
        " 1",
        "1 ",
        "+1",
        "1_0",
        "01",
        "\u0661",
        1,
        None,
    ],
)
def test_a_subject_that_is_not_a_user_id_is_an_invalid_token(subject: object) -> None:
    with pytest.raises(InvalidToken):
        subject_user_id({"sub": subject})


def test_a_subject_past_an_integer_columns_range_is_an_invalid_token() -> None:
    assert subject_user_id({"sub": str(INTEGER_MAX)}, largest=INTEGER_MAX) == INTEGER_MAX
    with pytest.raises(InvalidToken):
        subject_user_id({"sub": str(INTEGER_MAX + 1)}, largest=INTEGER_MAX)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        codec({"2026": "short"})


def test_credentials_are_read_from_the_authorization_header() -> None:
    assert credentials_from_header("bearer abc.def") == "abc.def"
    assert credentials_from_header("Token abc", scheme="Token") == "abc"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "abc"])
def test_missing_or_malformed_credentials_are_401_with_a_challenge(header: str | None) -> None:
    with pytest.raises(Unauthorized) as failure:
        credentials_from_header(header)
    assert failure.value.headers == {"WWW-Authenticate": "Bearer"}


def test_token_settings_make_each_service_name_itself() -> None:
    with pytest.raises(ValidationError, match="jwt_issuer"):
        TokenSettings.model_validate({})


def test_token_settings_refuse_the_development_key_in_production() -> None:
    with pytest.raises(ValidationError, match="JWT_KEYS"):
        TokenSettings(
            environment=Environment.PRODUCTION, jwt_issuer="sample", jwt_audience="sample"
        )
    settings = TokenSettings(
        environment=Environment.PRODUCTION,
        jwt_keys={"2026": SecretStr("p" * 40)},
        jwt_active_kid="2026",
        jwt_issuer="sample",
        jwt_audience="sample",
    )
    token = settings.token_codec().encode(
        subject="1", token_type="access", lifetime=settings.access_token_lifetime
    )
    assert settings.token_codec().decode(token.token, expected_type="access")["sub"] == "1"
