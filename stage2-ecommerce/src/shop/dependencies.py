"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling,
and the services the app keeps in `app.state`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import RateLimiterDep, TokenCodecDep, app_state_getter
from roadmap_shared.errors import Forbidden, Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken, subject_user_id
from roadmap_shared.storage.base import ImageStorage
from shop.accounts import repository as users
from shop.catalog.cache import CatalogCache
from shop.config import Settings
from shop.models import Role, User

__all__ = [
    "AdminUser",
    "CatalogCacheDep",
    "CurrentUser",
    "RateLimiterDep",
    "SessionDep",
    "SettingsDep",
    "StorageDep",
    "TokenCodecDep",
]


get_app_settings = app_state_getter("settings", Settings)
get_catalog_cache = app_state_getter("catalog_cache", CatalogCache)


async def get_storage(request: Request) -> ImageStorage:
    # Written out: `ImageStorage` is a Protocol, which `app_state_getter` cannot take.
    storage: ImageStorage = request.app.state.storage
    return storage


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CatalogCacheDep = Annotated[CatalogCache, Depends(get_catalog_cache)]
StorageDep = Annotated[ImageStorage, Depends(get_storage)]


# --- who is calling -------------------------------------------------------------------


# Declares the scheme in OpenAPI (the "Authorize" button in /docs); the header itself is
# read and checked by `credentials_from_header`, which answers 401 the same way everywhere.
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /auth/login")


async def get_current_user(
    request: Request,
    session: SessionDep,
    codec: TokenCodecDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> User:
    """The user named by a valid access token; 401 otherwise.

    The user is read from the database on every request rather than trusted from the
    token's claims, so a deleted user or a demoted admin loses access at once.
    """
    token = credentials_from_header(request.headers.get("Authorization"))
    try:
        user_id = subject_user_id(codec.decode(token, expected_type=ACCESS_TOKEN_TYPE))
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or has expired") from exc
    user = await users.get(session, user_id)
    if user is None:
        raise Unauthorized("The access token is invalid or has expired")
    return user


async def get_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    if user.role is not Role.ADMIN:
        raise Forbidden("Only administrators may do this")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
AdminUser = Annotated[User, Depends(get_admin)]
