"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling,
and the services the app keeps in `app.state`. The organisation guards (`OrgMember`,
`BillingManager`) live in `billing.organizations.dependencies`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.config import Settings
from billing.models import User
from billing.stripe_gateway import StripeGateway
from billing.users import repository as users
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

__all__ = [
    "ClientAddress",
    "CurrentUser",
    "OwnTransactionsDep",
    "RateLimiterDep",
    "SessionDep",
    "SettingsDep",
    "StripeGatewayDep",
    "TokenCodecDep",
]

get_app_settings = app_state_getter("settings", Settings)
get_stripe_gateway = app_state_getter("stripe_gateway", StripeGateway)

SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StripeGatewayDep = Annotated[StripeGateway, Depends(get_stripe_gateway)]


async def get_own_transactions(request: Request) -> async_sessionmaker[AsyncSession]:
    """Sessions apart from the request's, for what must be committed before the request
    ends: our payment or refund row, before Stripe is asked to act on it."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.database.sessionmaker
    return sessionmaker


OwnTransactionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_own_transactions)]

# Declares the scheme in OpenAPI (the "Authorize" button in /docs); the header itself is
# read and checked by `credentials_from_header`, which answers 401 the same way everywhere.
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /users/login")


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
