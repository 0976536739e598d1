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
from roadmap_shared.dependencies import RateLimiterDep, TokenCodecDep
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


def get_app_settings(request: Request) -> Settings:
    # The app's own settings, not `config.get_settings()` (the environment's): a test app
    # is built with settings of its own.
    settings: Settings = request.app.state.settings
    return settings


def get_hashing_slots(request: Request) -> asyncio.Semaphore:
    slots: asyncio.Semaphore = request.app.state.hashing_slots
    return slots


def get_email_outbox(request: Request) -> EmailOutbox:
    outbox: EmailOutbox = request.app.state.email_outbox
    return outbox


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
HashingSlotsDep = Annotated[asyncio.Semaphore, Depends(get_hashing_slots)]
EmailOutboxDep = Annotated[EmailOutbox, Depends(get_email_outbox)]


def client_address(request: Request) -> str:
    """The address of the peer that connected to us, which the rate limits key on.

    Behind a reverse proxy that is the proxy, for every client, and they all share one
    limit. There, set AUTH_FORWARDED_ALLOW_IPS to the proxy's address (see the README), so
    the client's address is taken from `X-Forwarded-For`. Never trust that header from
    anyone else, or every client can pick its own rate-limit key."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


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
