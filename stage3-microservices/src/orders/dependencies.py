"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling,
and the services the app keeps in `app.state`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orders.accounts import repository as users
from orders.config import Settings
from orders.models import User
from roadmap_shared.database import Database, SessionDep
from roadmap_shared.dependencies import RateLimiterDep, app_state_getter
from roadmap_shared.errors import Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.public_keys import TokenSigner, TokenVerifier
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken, subject_user_id

__all__ = [
    "CallerWithoutSession",
    "CurrentUser",
    "DatabaseDep",
    "RateLimiterDep",
    "SessionDep",
    "SettingsDep",
    "TokenSignerDep",
]


get_app_settings = app_state_getter("settings", Settings)

SettingsDep = Annotated[Settings, Depends(get_app_settings)]
TokenSignerDep = Annotated[TokenSigner, Depends(app_state_getter("token_signer", TokenSigner))]
DatabaseDep = Annotated[Database, Depends(app_state_getter("database", Database))]
TokenVerifierDep = Annotated[
    TokenVerifier, Depends(app_state_getter("token_verifier", TokenVerifier))
]


# --- who is calling -------------------------------------------------------------------


# Declares the scheme in OpenAPI (the "Authorize" button in /docs); the header itself is
# read and checked by `credentials_from_header`, which answers 401 the same way everywhere.
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /auth/login")


def _token_user_id(request: Request, verifier: TokenVerifier) -> int:
    token = credentials_from_header(request.headers.get("Authorization"))
    try:
        return subject_user_id(verifier.decode(token, expected_type=ACCESS_TOKEN_TYPE))
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or has expired") from exc


async def get_current_user(
    request: Request,
    session: SessionDep,
    verifier: TokenVerifierDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> User:
    """The user named by a valid access token; 401 otherwise.

    The user is read from the database on every request rather than trusted from the
    token's claims, so a deleted user loses access at once (the catalog, which has no
    users table, trusts the token's role until it expires).
    """
    user = await users.get(session, _token_user_id(request, verifier))
    if user is None:
        raise Unauthorized("The access token is invalid or has expired")
    return user


async def get_caller_without_session(
    request: Request,
    database: DatabaseDep,
    verifier: TokenVerifierDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> User:
    """As `get_current_user`, read in a session closed before the handler runs: for the
    checkout, whose steps each take a connection of their own, and which must hold none
    while it waits for the catalog (fifty waiting checkouts would empty the pool)."""
    user_id = _token_user_id(request, verifier)
    async with database.read_sessionmaker() as session:
        user = await users.get(session, user_id)
    if user is None:
        raise Unauthorized("The access token is invalid or has expired")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
CallerWithoutSession = Annotated[User, Depends(get_caller_without_session)]
