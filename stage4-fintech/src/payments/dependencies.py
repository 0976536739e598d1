"""The `Annotated` dependencies handlers declare: the session, the settings, who is calling,
and the services the app keeps in `app.state`."""

import uuid
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payments.config import Settings
from payments.customers import repository as customers
from payments.ledger_client import LedgerClient
from payments.models import Customer, Role
from roadmap_shared.database import Database, SessionDep
from roadmap_shared.dependencies import RateLimiterDep, app_state_getter
from roadmap_shared.errors import Forbidden, Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.security.public_keys import TokenSigner, TokenVerifier
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, InvalidToken

__all__ = [
    "CallerWithoutSession",
    "CurrentCustomer",
    "DatabaseDep",
    "IdempotencyKeyHeader",
    "LedgerDep",
    "RateLimiterDep",
    "SessionDep",
    "SettingsDep",
    "Staff",
    "TokenSignerDep",
]

SettingsDep = Annotated[Settings, Depends(app_state_getter("settings", Settings))]
TokenSignerDep = Annotated[TokenSigner, Depends(app_state_getter("token_signer", TokenSigner))]
TokenVerifierDep = Annotated[
    TokenVerifier, Depends(app_state_getter("token_verifier", TokenVerifier))
]
DatabaseDep = Annotated[Database, Depends(app_state_getter("database", Database))]
LedgerDep = Annotated[LedgerClient, Depends(app_state_getter("ledger", LedgerClient))]

IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="Any unique string (a UUID), required: a retry with the same key and "
        "body answers what the first request did, and never moves the money twice",
    ),
]

# Declares the scheme in OpenAPI (the "Authorize" button in /docs); the header itself is
# read and checked by `credentials_from_header`, which answers 401 the same way everywhere.
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /auth/login")


def _subject_customer_id(claims: dict[str, object]) -> uuid.UUID:
    """The customer id in `sub`, in the one form this service writes it (a valid signature
    proves we issued the token, not that every claim has today's form)."""
    subject = claims.get("sub")
    try:
        customer_id = uuid.UUID(subject) if isinstance(subject, str) else None
    except ValueError:
        customer_id = None
    if customer_id is None or str(customer_id) != subject:
        raise InvalidToken("the subject is not a customer id")
    return customer_id


def _token_customer_id(request: Request, verifier: TokenVerifier) -> uuid.UUID:
    token = credentials_from_header(request.headers.get("Authorization"))
    try:
        return _subject_customer_id(verifier.decode(token, expected_type=ACCESS_TOKEN_TYPE))
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or has expired") from exc


async def get_current_customer(
    request: Request,
    session: SessionDep,
    verifier: TokenVerifierDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Customer:
    """The customer named by a valid access token, read from the database on every request
    (a deleted customer loses access at once); 401 otherwise."""
    customer = await customers.get(session, _token_customer_id(request, verifier))
    if customer is None:
        raise Unauthorized("The access token is invalid or has expired")
    return customer


async def get_caller_without_session(
    request: Request,
    database: DatabaseDep,
    verifier: TokenVerifierDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Customer:
    """As `get_current_customer`, read in a session closed before the handler runs: for
    the handlers that call the ledger, which must hold no connection while they wait for
    it (twenty waiting payments would empty the pool)."""
    customer_id = _token_customer_id(request, verifier)
    async with database.read_sessionmaker() as session:
        customer = await customers.get(session, customer_id)
    if customer is None:
        raise Unauthorized("The access token is invalid or has expired")
    return customer


CurrentCustomer = Annotated[Customer, Depends(get_current_customer)]
CallerWithoutSession = Annotated[Customer, Depends(get_caller_without_session)]


async def require_staff(customer: CallerWithoutSession) -> Customer:
    if customer.role is not Role.STAFF:
        raise Forbidden("Only staff may review payments")
    return customer


Staff = Annotated[Customer, Depends(require_staff)]
