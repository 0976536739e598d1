"""Input every stage must refuse or survive the same way, as pytest parametrisations.

A stage's own test names the route and the answer its clients expect; the cases, which
are the same for every stage, live here so that a case added once is checked everywhere.
"""

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, BIGINT_MAX, TokenCodec

# Bytes no UTF-8 decoder accepts: a header holding them must not reach code that decodes.
NOT_UTF8 = b"\xff\xe9"
# The headers the stages read: the request id they log, and the credentials they parse.
HEADERS_READ = (b"X-Request-ID", b"Authorization")
# Long enough to outlive the request; short-lived so that a leaked test token is harmless.
TOKEN_LIFETIME = timedelta(minutes=5)


def forged_subjects(*, largest_user_id: int = BIGINT_MAX) -> pytest.MarkDecorator:
    """Parametrises `subject` with `sub` claims that are not a user id, for a token signed
    with the real key: only the subject is wrong.

    `largest_user_id` is the id column's maximum (`INTEGER_MAX` for an INTEGER column):
    one past it is a number the shared check would let through for a BIGINT and the
    database would refuse, as a 500.
    """
    cases = {
        "past-a-bigint": str(BIGINT_MAX + 1),
        "a-name": "admin",
        "letters": "abc",
        "negative": "-1",
        "exponent": "1e3",
        "leading-space": " 1",
        "zero": "0",
        "arabic-indic-digit": "\u0661",
    }
    if largest_user_id < BIGINT_MAX:
        cases["past-the-id-column"] = str(largest_user_id + 1)
    return pytest.mark.parametrize(
        "subject", [pytest.param(subject, id=case) for case, subject in cases.items()]
    )


def access_token(codec: TokenCodec, subject: str, **claims: Any) -> str:
    """An access token for `subject`, signed by `codec`, with any further `claims`."""
    issued = codec.encode(
        subject=subject, token_type=ACCESS_TOKEN_TYPE, lifetime=TOKEN_LIFETIME, claims=claims
    )
    return issued.token


def headers_not_utf8(*paths: str) -> pytest.MarkDecorator:
    """Parametrises `path` (each of `paths`) and `header` (each header the stages read)."""
    return pytest.mark.parametrize(
        ("path", "header"), [(path, header) for path in paths for header in HEADERS_READ]
    )


async def assert_not_utf8_header_is_answered(client: AsyncClient, path: str, header: bytes) -> None:
    """A GET of `path` whose `header` is not UTF-8 gets an answer, not a 500, and the
    request id it carries is one the server made, not the bytes it was sent."""
    response = await client.get(path, headers=[(header, NOT_UTF8)])
    assert response.status_code < 500, (path, header, response.text)
    assert len(response.headers["X-Request-ID"]) == 32  # replaced, not echoed
