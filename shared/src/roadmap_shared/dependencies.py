"""Dependencies for what an app factory keeps in `app.state`, shared by the stages with users.

The factory creates one `TokenCodec` and one `RateLimiter` per app and stores them as
`app.state.token_codec` and `app.state.rate_limiter`; handlers ask for them by type.
"""

from typing import Annotated

from fastapi import Depends, Request, Response

from roadmap_shared.ratelimit import RateLimiter, client_address_key
from roadmap_shared.security.tokens import TokenCodec


def get_token_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def get_client_address(request: Request) -> str:
    """Who is calling, as rate limits key it: the TCP peer's address (an IPv6 client by its
    /64, see `client_address_key`).

    Behind a reverse proxy the peer is the proxy, for every client, and they would all
    share one limit. There, set the stage's `<PREFIX>_FORWARDED_ALLOW_IPS` to the proxy's
    address, so the client's address is taken from `X-Forwarded-For`. Never trust that
    header from anyone else, or every client can pick its own rate-limit key."""
    return client_address_key(request.client.host) if request.client else "unknown"


ClientAddress = Annotated[str, Depends(get_client_address)]


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


# For routes whose responses carry tokens or personal data to clients that send no
# credentials, such as signing up, signing in and refreshing (RFC 6749 section 5.1):
# `APIRouter(dependencies=[NO_STORE])`. Responses to requests that do send credentials get
# `no-store` from `SecurityHeadersMiddleware` whatever the route.
NO_STORE = Depends(_no_store)
