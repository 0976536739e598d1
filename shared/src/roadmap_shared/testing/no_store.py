"""What a cache may keep: nothing that carries credentials or someone's own data."""

from collections.abc import Mapping

from httpx import Response


def assert_no_store(response: Response) -> None:
    """No cache, shared or private, may keep `response`."""
    assert response.headers.get("Cache-Control") == "no-store", _request_line(response)


def assert_none_stored(responses: Mapping[str, Response], *, status_below: int = 400) -> None:
    """Each of `responses` (by a name for the failure message) has a status below
    `status_below` (answered, not broken) and may not be kept by any cache."""
    for name, response in responses.items():
        assert response.status_code < status_below, (name, response.status_code, response.text)
        assert_no_store(response)


def assert_may_be_stored(response: Response) -> None:
    """`response` is public: the server leaves caching to the usual HTTP rules."""
    assert "Cache-Control" not in response.headers, _request_line(response)


def _request_line(response: Response) -> str:
    return f"{response.request.method} {response.request.url.path}"
