"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling,
and the services the app keeps in `app.state`."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import RateLimiterDep, TokenCodecDep, app_state_getter
from roadmap_shared.errors import Forbidden, Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken, subject_user_id
from shop.accounts import repository as users
from shop.catalog.cache import CatalogCache
from shop.config import Settings
from shop.models import Role, User
from shop.storage.base import ImageStorage

__all__ = [
    "AFTER_COMMIT",
    "AdminUser",
    "AfterCommit",
    "AfterCommitDep",
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


def get_storage(request: Request) -> ImageStorage:
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


# --- effects after commit -------------------------------------------------------------

Effect = Callable[[], Awaitable[None]]


class AfterCommit:
    """Side effects (cache invalidation, deleting stored files) that must wait for the
    request's commit.

    Invalidating before the commit would let a concurrent reader load the old row and
    cache it again; invalidating after a rollback would be harmless but pointless.
    """

    def __init__(self) -> None:
        self._effects: list[Effect] = []

    def add(self, effect: Effect) -> None:
        self._effects.append(effect)

    async def run(self) -> None:
        for effect in self._effects:
            await effect()


async def _after_commit_scope(request: Request) -> AsyncIterator[None]:
    request.state.after_commit = effects = AfterCommit()
    yield
    # Reached only when the handler returned and the session committed: FastAPI closes
    # dependencies in reverse order, and this one was opened before the session (below).
    await effects.run()


# Declared on a router (`APIRouter(dependencies=[AFTER_COMMIT])`): router dependencies are
# solved before the handler's own, so this opens before the session and closes after it.
AFTER_COMMIT = Depends(_after_commit_scope, scope="function")


def get_after_commit(request: Request) -> AfterCommit:
    effects: AfterCommit | None = getattr(request.state, "after_commit", None)
    if effects is None:
        raise RuntimeError("this route's router must declare `dependencies=[AFTER_COMMIT]`")
    return effects


AfterCommitDep = Annotated[AfterCommit, Depends(get_after_commit)]
