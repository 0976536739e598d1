"""Every stage keeps answering without Redis: its cache reads the database, its rate limits
count in the process. These are the checks its `test_redis_down.py` makes."""

from collections.abc import Sequence

from httpx import Response

# Port 1 is never served: a connection is refused at once, with no timeout to wait for.
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


def assert_ready_but_degraded(readiness: Response) -> None:
    """`/readyz` says Redis failed, and still answers 200: failing would take every
    replica out of rotation over a cache."""
    assert readiness.status_code == 200
    assert readiness.json()["status"] == "degraded"
    assert readiness.json()["checks"]["postgres"] == "ok"
    assert readiness.json()["checks"]["redis"].startswith("failed")


def assert_limited_after(answers: Sequence[Response], allowed: int, *, status: int) -> None:
    """The first `allowed` of `answers` got `status`, the next a 429 saying when to retry."""
    assert [answer.status_code for answer in answers] == [status] * allowed + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
