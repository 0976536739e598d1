"""The dependencies handlers declare, as `Annotated` aliases defined once.

Who is asking, from least to most trusted:
- `ViewerId`: the signed-in user's id, or None for anonymous reads (a bad token is still a
  401). Only reads take it.
- `TokenViewerId`, `TokenReaderId` (signed in or 401): the id a valid token names, for the
  article list and the feed, whose one statement also checks that the account exists.
- `CurrentUser`: signed in; 401 otherwise.
- `Writer`: signed in, not suspended (403), and within the write rate limit (429).
- `Staff`: a writer who is a moderator or an admin (403 otherwise).
- `Admin`: a writer who is an admin (403 otherwise).
"""

from typing import Annotated, Any

from fastapi import Depends, Response
from fastapi.security import APIKeyHeader

from conduit.articles.cache import ContentCache
from conduit.config import Settings
from conduit.errors import TOKEN_SCHEME, forbidden, unauthorized
from conduit.models import Role, User
from conduit.rate_limits import write_policy
from conduit.users import repository as users
from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import (
    ClientAddress,
    RateLimiterDep,
    TokenCodecDep,
    app_state_getter,
)
from roadmap_shared.errors import Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.tokens import (
    ACCESS_TOKEN_TYPE,
    INTEGER_MAX,
    InvalidToken,
    TokenCodec,
    subject_user_id,
)

__all__ = [
    "TOKEN_OPTIONAL",
    "Admin",
    "ClientAddress",
    "CurrentUser",
    "PresentedToken",
    "RateLimiterDep",
    "SessionDep",
    "Staff",
    "TokenCodecDep",
    "TokenReaderId",
    "TokenViewerId",
    "ViewerId",
    "Writer",
]

# Declared as an API key header so that /docs offers an "Authorize" box for `Token <jwt>`.
_authorization_header = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <jwt>`, the token from a user response",
    auto_error=False,
)


get_app_settings = app_state_getter("settings", Settings)
get_content_cache = app_state_getter("content_cache", ContentCache)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ContentCacheDep = Annotated[ContentCache, Depends(get_content_cache)]


def _token_user_id(codec: TokenCodec, authorization: str | None) -> int | None:
    """The user id a valid access token names; None without a token, 401 for a bad one."""
    if authorization is None:
        return None
    try:
        token = credentials_from_header(authorization, scheme=TOKEN_SCHEME)
        claims = codec.decode(token, expected_type=ACCESS_TOKEN_TYPE)
        return subject_user_id(claims, largest=INTEGER_MAX)  # users.id is an INTEGER
    except (Unauthorized, InvalidToken) as exc:
        raise unauthorized("token", "is invalid or expired") from exc


async def get_viewer_id(
    session: SessionDep,
    codec: TokenCodecDep,
    authorization: Annotated[str | None, Depends(_authorization_header)] = None,
) -> int | None:
    """Who is reading, for the personal flags of a read (`favorited`, `following`): their
    id is all a read needs, so it checks that the account still exists (`users.exists`, a
    statement built once and run through Core) instead of loading a `User` object, which
    the ORM would build and track for nothing."""
    user_id = _token_user_id(codec, authorization)
    if user_id is not None and not await users.exists(session, user_id):
        raise unauthorized("token", "is invalid or expired")  # deleted since it was issued
    return user_id


ViewerId = Annotated[int | None, Depends(get_viewer_id)]


async def get_token_viewer_id(
    codec: TokenCodecDep,
    authorization: Annotated[str | None, Depends(_authorization_header)] = None,
) -> int | None:
    """`ViewerId` without the check that the account still exists, for a read whose own
    statement makes that check (the article list): one round trip fewer, which costs the
    app more CPU than the check costs PostgreSQL. Its handler must answer 401 when the
    check fails, as `ViewerId` would have."""
    return _token_user_id(codec, authorization)


async def get_token_reader_id(
    codec: TokenCodecDep,
    authorization: Annotated[str | None, Depends(_authorization_header)] = None,
) -> int:
    """`TokenViewerId`, signed in or 401: a personal read (the feed) that, like the
    article list, checks the account in its own statement."""
    user_id = _token_user_id(codec, authorization)
    if user_id is None:
        raise unauthorized("token", "is missing")
    return user_id


TokenViewerId = Annotated[int | None, Depends(get_token_viewer_id)]
TokenReaderId = Annotated[int, Depends(get_token_reader_id)]
# `openapi_extra` of the routes a `ViewerId` reads: the token is optional there. FastAPI
# appends this to the requirement the header declares: "Token, or nothing" (`{}`).
TOKEN_OPTIONAL: dict[str, Any] = {"security": [{}]}


async def get_current_user(
    session: SessionDep,
    codec: TokenCodecDep,
    authorization: Annotated[str | None, Depends(_authorization_header)] = None,
) -> User:
    """The signed-in user as a `User`, whose role and suspension writes check."""
    user_id = _token_user_id(codec, authorization)
    if user_id is None:
        raise unauthorized("token", "is missing")
    user = await users.get_by_id(session, user_id)
    if user is None:  # the account was deleted after the token was issued
        raise unauthorized("token", "is invalid or expired")
    return user


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
