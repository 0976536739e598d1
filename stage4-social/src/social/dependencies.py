"""The `Annotated` dependencies handlers declare: the session, the settings, who is
calling, and the services the app keeps in `app.state`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import (
    ClientAddress,
    RateLimiterDep,
    TokenCodecDep,
    app_state_getter,
)
from roadmap_shared.errors import Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken, subject_user_id
from social.config import Settings
from social.models import User
from social.timelines.store import TimelineStore
from social.users import repository as users

__all__ = [
    "ClientAddress",
    "CurrentUser",
    "RateLimiterDep",
    "SessionDep",
    "SettingsDep",
    "TimelineStoreDep",
    "TokenCodecDep",
]

get_app_settings = app_state_getter("settings", Settings)
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
TimelineStoreDep = Annotated[
    TimelineStore, Depends(app_state_getter("timeline_store", TimelineStore))
]

# Declares the scheme in OpenAPI (the "Authorize" button in /docs); the header itself is
# read and checked by `credentials_from_header`, which answers 401 the same way everywhere.
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /api/users/login")


async def get_current_user(
    request: Request,
    session: SessionDep,
    codec: TokenCodecDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> User:
    """The user named by a valid access token, read from the database each time; 401
    otherwise."""
    token = credentials_from_header(request.headers.get("Authorization"))
    try:
        user_id = subject_user_id(codec.decode(token, expected_type=ACCESS_TOKEN_TYPE))
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or has expired") from exc
    user = await users.get(session, user_id)
    if user is None:
        raise Unauthorized("The access token is invalid or has expired")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
