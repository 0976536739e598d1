"""Dependencies for what an app factory keeps in `app.state`.

The factory makes each long-lived object once (settings, a `TokenCodec`, a `RateLimiter`,
a stage's cache or storage) and stores it in `app.state`; handlers ask for it by type, and
a test builds an app with objects of its own.

Every dependency here is `async def`, even with nothing to await: FastAPI runs a plain
`def` dependency in a worker thread, and a hop to a thread and back costs more than most
dependencies do (about 0.2 ms of CPU each, per request). `tests/test_dependencies.py` in
each stage's suite holds every route to that.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response

from roadmap_shared.ratelimit import RateLimiter, client_address_key
from roadmap_shared.security.tokens import TokenCodec

T = TypeVar("T")


def app_state_getter(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency that returns `app.state.<name>`, declared to be a `kind`:
    `SettingsDep = Annotated[Settings, Depends(app_state_getter("settings", Settings))]`."""

    async def get(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    get.__name__ = f"get_{name}"
    return get


get_token_codec = app_state_getter("token_codec", TokenCodec)
get_rate_limiter = app_state_getter("rate_limiter", RateLimiter)


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


async def get_client_address(request: Request) -> str:
    """Who is calling, as rate limits key it: the TCP peer's address (an IPv6 client by its
    /64, see `client_address_key`).

    Behind a reverse proxy the peer is the proxy, for every client, and they would all
    share one limit. There, set the stage's `<PREFIX>_FORWARDED_ALLOW_IPS` to the proxy's
    address, so the client's address is taken from `X-Forwarded-For`. Never trust that
    header from anyone else, or every client can pick its own rate-limit key."""
    return client_address_key(request.client.host) if request.client else "unknown"


ClientAddress = Annotated[str, Depends(get_client_address)]


async def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


# For routes whose responses carry tokens or personal data to clients that send no
# credentials, such as signing up, signing in and refreshing (RFC 6749 section 5.1):
# `APIRouter(dependencies=[NO_STORE])`. Responses to requests that do send credentials get
# `no-store` from `SecurityHeadersMiddleware` whatever the route.
NO_STORE = Depends(_no_store)
