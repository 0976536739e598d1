"""The dependencies handlers declare, as `Annotated` aliases defined once.

Who is asking:
- `Authenticated`: a valid access token of a live session of an active user (401 otherwise),
  with the session it belongs to (for logout);
- `CurrentUser`: that user;
- `AdminUser`: that user, if an admin (403 otherwise).

Shared objects (settings, token codec, rate limiter, hashing slots, email outbox) live on
`app.state`, set by the app factory, so tests build an app with their own settings.
"""

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from auth_service.auth.service import Authentication, authenticate
from auth_service.config import Settings
from auth_service.emails.service import EmailOutbox
from auth_service.models import User
from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import (
    ClientAddress,
    RateLimiterDep,
    TokenCodecDep,
    app_state_getter,
)
from roadmap_shared.errors import Forbidden
from roadmap_shared.security.credentials import credentials_from_header

__all__ = [
    "AdminUser",
    "Authenticated",
    "ClientAddress",
    "CurrentUser",
    "EmailOutboxDep",
    "HashingSlotsDep",
    "RateLimiterDep",
    "SessionDep",
    "SettingsDep",
    "TokenCodecDep",
]


# The app's own settings, not `config.get_settings()` (the environment's): a test app is
# built with settings of its own.
get_app_settings = app_state_getter("settings", Settings)
get_hashing_slots = app_state_getter("hashing_slots", asyncio.Semaphore)


async def get_email_outbox(request: Request) -> EmailOutbox:
    outbox: EmailOutbox = request.app.state.email_outbox
    return outbox


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
HashingSlotsDep = Annotated[asyncio.Semaphore, Depends(get_hashing_slots)]
EmailOutboxDep = Annotated[EmailOutbox, Depends(get_email_outbox)]


# Describes the bearer token in the OpenAPI document, which gives Swagger UI its
# "Authorize" button (it signs in at /auth/login with the OAuth2 password form).
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/login",
    description="Sign in with your email address as the username.",
    auto_error=False,
)


async def get_authentication(
    request: Request,
    session: SessionDep,
    codec: TokenCodecDep,
    _documented: Annotated[str | None, Depends(oauth2_scheme)],
) -> Authentication:
    # `oauth2_scheme` is declared for the documentation only; the header is read here, so
    # that a missing or malformed one gets our 401 problem with `WWW-Authenticate`.
    token = credentials_from_header(request.headers.get("Authorization"))
    return await authenticate(session, codec, token)


Authenticated = Annotated[Authentication, Depends(get_authentication)]


async def get_current_user(authentication: Authenticated) -> User:
    return authentication.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Only administrators may do this.")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
