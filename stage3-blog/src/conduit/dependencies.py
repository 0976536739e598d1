"""The dependencies handlers declare, as `Annotated` aliases defined once.

Who is asking, from least to most trusted:
- `Viewer`: the signed-in user, or None for anonymous reads (a bad token is still a 401).
- `CurrentUser`: signed in; 401 otherwise.
- `Writer`: signed in, not suspended (403), and within the write rate limit (429).
- `Staff`: a writer who is a moderator or an admin (403 otherwise).
- `Admin`: a writer who is an admin (403 otherwise).
"""

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader

from conduit.articles.cache import ContentCache
from conduit.config import Settings
from conduit.errors import TOKEN_SCHEME, forbidden, unauthorized
from conduit.models import Role, User
from conduit.ratelimits import write_policy
from conduit.users import repository as users
from conduit.users.service import ACCESS_TOKEN
from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import RateLimiterDep, TokenCodecDep
from roadmap_shared.errors import Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.tokens import InvalidToken

__all__ = [
    "TOKEN_OPTIONAL",
    "Admin",
    "CurrentUser",
    "PresentedToken",
    "RateLimiterDep",
    "SessionDep",
    "Staff",
    "TokenCodecDep",
    "Viewer",
    "Writer",
]

# Declared as an API key header so that /docs offers an "Authorize" box for `Token <jwt>`.
_authorization_header = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <jwt>`, the token from a user response",
    auto_error=False,
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_cache(request: Request) -> ContentCache:
    cache: ContentCache = request.app.state.content_cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[ContentCache, Depends(get_cache)]


async def get_viewer(
    session: SessionDep,
    codec: TokenCodecDep,
    authorization: Annotated[str | None, Depends(_authorization_header)] = None,
) -> User | None:
    if authorization is None:
        return None
    try:
        token = credentials_from_header(authorization, scheme=TOKEN_SCHEME)
        claims = codec.decode(token, expected_type=ACCESS_TOKEN)
    except (Unauthorized, InvalidToken) as exc:
        raise unauthorized("token", "is invalid or expired") from exc
    user = await users.get_by_id(session, int(claims["sub"]))
    if user is None:  # the account was deleted after the token was issued
        raise unauthorized("token", "is invalid or expired")
    return user


Viewer = Annotated[User | None, Depends(get_viewer)]
# `openapi_extra` of the routes a `Viewer` reads: the token is optional there. FastAPI
# appends this to the requirement the header declares: "Token, or nothing" (`{}`).
TOKEN_OPTIONAL: dict[str, Any] = {"security": [{}]}


async def get_current_user(viewer: Viewer) -> User:
    if viewer is None:
        raise unauthorized("token", "is missing")
    return viewer


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_presented_token(
    _: CurrentUser, authorization: Annotated[str | None, Depends(_authorization_header)]
) -> str:
    """The token the signed-in user sent (`CurrentUser` has verified it)."""
    return credentials_from_header(authorization, scheme=TOKEN_SCHEME)


PresentedToken = Annotated[str, Depends(get_presented_token)]


async def get_writer(
    user: CurrentUser, limiter: RateLimiterDep, settings: SettingsDep, response: Response
) -> User:
    if user.is_suspended:
        raise forbidden("account", "is suspended: you can read, but not write")
    decision = await limiter.enforce(write_policy(settings), f"user:{user.id}")
    response.headers.update(decision.headers())
    return user


Writer = Annotated[User, Depends(get_writer)]


async def get_staff(user: Writer) -> User:
    if not user.role.moderates:
        raise forbidden("role", "must be moderator or admin")
    return user


Staff = Annotated[User, Depends(get_staff)]


async def get_admin(user: Writer) -> User:
    if user.role is not Role.ADMIN:
        raise forbidden("role", "must be admin")
    return user


Admin = Annotated[User, Depends(get_admin)]
