"""Dependencies for what an app factory keeps in `app.state`, shared by the stages with users.

The factory creates one `TokenCodec` and one `RateLimiter` per app and stores them as
`app.state.token_codec` and `app.state.rate_limiter`; handlers ask for them by type.
"""

from typing import Annotated

from fastapi import Depends, Request

from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.security.tokens import TokenCodec


def get_token_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
