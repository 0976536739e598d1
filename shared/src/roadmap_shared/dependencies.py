"""Dependencies for what an app factory keeps in `app.state`.

The factory makes each long-lived object once (settings, a `TokenCodec`, a `RateLimiter`,
a stage's cache or storage) and stores it in `app.state`; handlers ask for it by type, and
a test builds an app with objects of its own.
"""

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.security.tokens import TokenCodec

T = TypeVar("T")


def app_state_getter(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency that returns `app.state.<name>`, declared to be a `kind`:
    `SettingsDep = Annotated[Settings, Depends(app_state_getter("settings", Settings))]`."""

    def get(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    get.__name__ = f"get_{name}"
    return get


get_token_codec = app_state_getter("token_codec", TokenCodec)
get_rate_limiter = app_state_getter("rate_limiter", RateLimiter)


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
