"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling
(and in which role), and the services the app keeps in `app.state`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from rides.config import Settings
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.models import Role, User
from rides.streams import TripRequests
from rides.users import repository as users
from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import (
    ClientAddress,
    RateLimiterDep,
    TokenCodecDep,
    app_state_getter,
)
from roadmap_shared.errors import Forbidden, Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken, subject_user_id

__all__ = [
    "ClientAddress",
    "CurrentDriver",
    "CurrentRider",
    "CurrentUser",
    "GeoIndexDep",
    "OffersDep",
    "RateLimiterDep",
    "RedisDep",
    "SessionDep",
    "SettingsDep",
    "TokenCodecDep",
    "TripRequestsDep",
]

get_app_settings = app_state_getter("settings", Settings)
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
GeoIndexDep = Annotated[GeoIndex, Depends(app_state_getter("geo_index", GeoIndex))]
OffersDep = Annotated[Offers, Depends(app_state_getter("offers", Offers))]
TripRequestsDep = Annotated[TripRequests, Depends(app_state_getter("trip_requests", TripRequests))]
RedisDep = Annotated[Redis, Depends(app_state_getter("redis", Redis))]

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


def _in_role(role: Role) -> object:
    async def check(user: CurrentUser) -> User:
        if user.role is not role:
            raise Forbidden(f"Only a {role.value} account may do this")
        return user

    return Depends(check)


CurrentRider = Annotated[User, _in_role(Role.RIDER)]
CurrentDriver = Annotated[User, _in_role(Role.DRIVER)]
