"""Header values a client controls get a normal answer, whatever bytes they hold."""

import logging
import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from roadmap_shared.middleware import SECURITY_HEADERS

NOT_UTF8 = [b"\xff", b"\xe9t\xe9", b"abc\xff\xfe", b"\x00\x01", b"a" * 10_000]
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    # Exceptions are not re-raised into the test: what matters is what the client gets.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize("value", NOT_UTF8, ids=repr)
@pytest.mark.parametrize("path", ["/healthz", "/nowhere", "/docs"])
async def test_an_unusable_request_id_is_replaced_not_trusted(
    raw_client: AsyncClient, path: str, value: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="roadmap.access"):
        response = await raw_client.get(path, headers=[(b"X-Request-ID", value)])
    assert response.status_code in (200, 404)
    assert GENERATED_ID.match(response.headers["X-Request-ID"])
    for name, expected in SECURITY_HEADERS.items():
        if name != "Content-Security-Policy":  # /docs sets its own
            assert response.headers[name] == expected
    assert [r for r in caplog.records if r.name == "roadmap.access"], "no access-log line"


@pytest.mark.parametrize(
    "header", [b"Authorization", b"If-None-Match", b"Content-Type", b"Origin", b"X-Anything"]
)
async def test_other_headers_with_bytes_that_are_not_utf8_are_answered(
    raw_client: AsyncClient, header: bytes
) -> None:
    response = await raw_client.get("/healthz", headers=[(header, b"\xff\xe9")])
    assert response.status_code < 500
