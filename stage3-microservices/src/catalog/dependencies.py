"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling,
and the services the app keeps in `app.state`."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from catalog.catalog.cache import CatalogCache
from catalog.config import Settings
from roadmap_shared.database import SessionDep
from roadmap_shared.dependencies import app_state_getter
from roadmap_shared.errors import Forbidden, Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.public_keys import JwksVerifier
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken
from roadmap_shared.storage.base import ImageStorage

__all__ = [
    "SERVICE_TOKEN_TYPE",
    "AdminCaller",
    "CatalogCacheDep",
    "ServiceCaller",
    "SessionDep",
    "SettingsDep",
    "StorageDep",
]

# The `typ` of the tokens the orders service signs for its own calls (reservations).
SERVICE_TOKEN_TYPE = "service"  # noqa: S105 (a token type, not a secret)

get_app_settings = app_state_getter("settings", Settings)
get_catalog_cache = app_state_getter("catalog_cache", CatalogCache)
get_token_verifier = app_state_getter("token_verifier", JwksVerifier)


async def get_storage(request: Request) -> ImageStorage:
    # Written out: `ImageStorage` is a Protocol, which `app_state_getter` cannot take.
    storage: ImageStorage = request.app.state.storage
    return storage


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CatalogCacheDep = Annotated[CatalogCache, Depends(get_catalog_cache)]
StorageDep = Annotated[ImageStorage, Depends(get_storage)]
TokenVerifierDep = Annotated[JwksVerifier, Depends(get_token_verifier)]


# --- who is calling -------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who a verified token names. The catalog has no users table: what it knows of the
    caller is what the orders service signed, so a demoted admin keeps the role until the
    token expires (minutes). That is the price of not calling orders on every request."""

    subject: str
    role: str | None


_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from orders")


async def _verified_claims(request: Request, verifier: TokenVerifierDep, token_type: str) -> Caller:
    token = credentials_from_header(request.headers.get("Authorization"))
    try:
        claims = await verifier.decode(token, expected_type=token_type)
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or has expired") from exc
    role = claims.get("role")
    return Caller(subject=str(claims["sub"]), role=role if isinstance(role, str) else None)


async def get_admin(
    request: Request,
    verifier: TokenVerifierDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Caller:
    caller = await _verified_claims(request, verifier, ACCESS_TOKEN_TYPE)
    if caller.role != "admin":
        raise Forbidden("Only administrators may do this")
    return caller


async def get_service(
    request: Request,
    verifier: TokenVerifierDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Caller:
    """Another service of the shop (orders), calling with a service token it signed. A
    customer's access token is of another type, so customers cannot reserve stock directly."""
    return await _verified_claims(request, verifier, SERVICE_TOKEN_TYPE)


AdminCaller = Annotated[Caller, Depends(get_admin)]
ServiceCaller = Annotated[Caller, Depends(get_service)]
