"""The checks the stages' hardening tests share: each passes what it should, and fails what
it guards against (a check that can never fail would make every stage's test hollow)."""

from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from roadmap_shared.ratelimit import account_key
from roadmap_shared.security.passwords import hash_password
from roadmap_shared.security.tokens import (
    ACCESS_TOKEN_TYPE,
    BIGINT_MAX,
    INTEGER_MAX,
    InvalidToken,
    TokenCodec,
    subject_user_id,
)
from roadmap_shared.testing.factories import TEST_JWT_KEY
from roadmap_shared.testing.hostile_input import (
    access_token,
    assert_not_utf8_header_is_answered,
    forged_subjects,
    headers_not_utf8,
)
from roadmap_shared.testing.no_store import (
    assert_may_be_stored,
    assert_no_store,
    assert_none_stored,
)
from roadmap_shared.testing.redis_down import assert_limited_after, assert_ready_but_degraded
from roadmap_shared.testing.sign_in import (
    assert_accounts_keyed_by_hash,
    assert_password_hash_upgraded,
    outdated_password_hash,
)

PASSWORD = "correct horse battery staple"
SECRET = b"a rate-limit key secret"


def parametrised(mark: pytest.MarkDecorator) -> list[Any]:
    """The values a parametrize mark hands its test (a `pytest.param` unwrapped)."""
    return [case.values[0] if hasattr(case, "values") else case for case in mark.args[1]]


def response(
    status_code: int = 200, headers: dict[str, str] | None = None, **json: Any
) -> httpx.Response:
    return httpx.Response(
        status_code, headers=headers, json=json, request=httpx.Request("GET", "http://test/me")
    )


@pytest.mark.parametrize("largest", [INTEGER_MAX, BIGINT_MAX])
def test_every_forged_subject_is_one_the_shared_check_refuses(largest: int) -> None:
    subjects = parametrised(forged_subjects(largest_user_id=largest))
    assert str(BIGINT_MAX + 1) in subjects
    for subject in subjects:
        with pytest.raises(InvalidToken):
            subject_user_id({"sub": subject}, largest=largest)


def test_forged_subjects_reach_past_an_integer_column_only_where_it_is_one() -> None:
    past_integer = str(INTEGER_MAX + 1)
    assert past_integer in parametrised(forged_subjects(largest_user_id=INTEGER_MAX))
    assert past_integer not in parametrised(forged_subjects())
    # For a BIGINT column the same number is a user id: no case to refuse.
    assert subject_user_id({"sub": past_integer}) == INTEGER_MAX + 1


def test_an_access_token_carries_the_subject_and_claims_asked_for() -> None:
    codec = TokenCodec(keys={"k": TEST_JWT_KEY}, active_kid="k", issuer="i", audience="a")
    claims = codec.decode(access_token(codec, "abc", sid="s1"), expected_type=ACCESS_TOKEN_TYPE)
    assert (claims["sub"], claims["sid"]) == ("abc", "s1")


def test_headers_not_utf8_covers_every_path_with_every_header_read() -> None:
    cases = parametrised(headers_not_utf8("/a", "/b"))
    assert cases == [
        ("/a", b"X-Request-ID"),
        ("/a", b"Authorization"),
        ("/b", b"X-Request-ID"),
        ("/b", b"Authorization"),
    ]


async def test_a_header_that_is_not_utf8_is_answered_by_the_shared_app(
    client: httpx.AsyncClient,
) -> None:
    for header in (b"X-Request-ID", b"Authorization"):
        await assert_not_utf8_header_is_answered(client, "/healthz", header)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, headers={"X-Request-ID": "0" * 32}),
        httpx.Response(200, headers=[(b"X-Request-ID", b"\xff\xe9")]),
    ],
    ids=["a 500", "the bytes echoed"],
)
async def test_a_server_error_or_an_echoed_request_id_fails_the_check(
    answer: httpx.Response,
) -> None:
    transport = httpx.MockTransport(lambda request: answer)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(AssertionError):
            await assert_not_utf8_header_is_answered(client, "/healthz", b"X-Request-ID")


def test_no_store_is_told_apart_from_storable() -> None:
    assert_no_store(response(headers={"Cache-Control": "no-store"}))
    assert_may_be_stored(response())
    for headers in ({}, {"Cache-Control": "private"}):
        with pytest.raises(AssertionError, match="GET /me"):
            assert_no_store(response(headers=headers))
    with pytest.raises(AssertionError):
        assert_may_be_stored(response(headers={"Cache-Control": "no-store"}))


def test_none_stored_needs_every_response_answered_and_unstorable() -> None:
    no_store = {"Cache-Control": "no-store"}
    kept = response(headers=no_store)
    assert_none_stored({"me": kept})
    with pytest.raises(AssertionError, match="broken"):
        assert_none_stored({"me": kept, "broken": response(500, headers=no_store)})
    with pytest.raises(AssertionError, match="GET /me"):
        assert_none_stored({"me": kept, "cached": response()})
    assert_none_stored({"refused": response(401, headers=no_store)}, status_below=500)


async def test_an_outdated_hash_is_not_taken_for_an_upgraded_one() -> None:
    outdated = outdated_password_hash(PASSWORD)
    await assert_password_hash_upgraded(await hash_password(PASSWORD), outdated, PASSWORD)
    for stored in (None, outdated, outdated_password_hash(PASSWORD)):
        with pytest.raises(AssertionError):
            await assert_password_hash_upgraded(stored, outdated, PASSWORD)
    with pytest.raises(AssertionError):
        await assert_password_hash_upgraded(await hash_password("other"), outdated, PASSWORD)


async def test_a_redis_key_holding_an_email_address_is_caught(redis_client: Redis) -> None:
    email = "Some.Private@example.com"
    hashed_key = f"ratelimit:login:{account_key(email, secret=SECRET)}"
    await redis_client.set(hashed_key, 1)
    await assert_accounts_keyed_by_hash(
        redis_client, email, secret=SECRET, key="ratelimit:login:{hashed}"
    )
    with pytest.raises(AssertionError):  # keyed by another secret's hash
        await assert_accounts_keyed_by_hash(
            redis_client, email, secret=b"another", key="ratelimit:login:{hashed}"
        )
    for part in ("some.private@example.com", "private"):
        await redis_client.set(f"ratelimit:login:{part}", 1)
        with pytest.raises(AssertionError):
            await assert_accounts_keyed_by_hash(
                redis_client, email, secret=SECRET, key="ratelimit:login:{hashed}"
            )
        await redis_client.delete(f"ratelimit:login:{part}")


def test_readiness_must_be_degraded_not_down_nor_ready() -> None:
    checks = {"postgres": "ok", "redis": "failed: ConnectionRefusedError"}
    assert_ready_but_degraded(response(status="degraded", checks=checks))
    for answer in (
        response(503, status="down", checks=checks),
        response(status="ready", checks={"postgres": "ok", "redis": "ok"}),
        response(status="degraded", checks={**checks, "postgres": "failed: OSError"}),
    ):
        with pytest.raises(AssertionError):
            assert_ready_but_degraded(answer)


def test_a_limit_holds_only_when_the_answer_after_it_is_a_429_with_retry_after() -> None:
    refused = response(429, headers={"Retry-After": "3"})
    assert_limited_after([response(401), response(401), refused], 2, status=401)
    for answers in (
        [response(401), refused],  # refused too early
        [response(401), response(401), response(401)],  # never refused
        [response(401), response(401), response(429, headers={"Retry-After": "0"})],
    ):
        with pytest.raises(AssertionError):
            assert_limited_after(answers, 2, status=401)
