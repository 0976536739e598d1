"""A dependency that is down or hung becomes 503 with `Retry-After`, not a 500.

The client did nothing wrong and the service has no bug: it should try again shortly, and
a load balancer or client library that honours `Retry-After` will. What counts as an outage:

- the network: a connection refused or reset, or a timeout (asyncpg raises these as they
  are, when it cannot connect or a statement gets no answer within its timeout);
- SQLAlchemy's pool: no free connection within the pool timeout;
- the database: a connection lost mid-request, or PostgreSQL refusing or cancelling work
  (shutting down, too many connections, statement timeout).
"""

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from roadmap_shared.errors import problem_response

logger = logging.getLogger(__name__)

# Long enough for a restart or a failover, short enough that clients do not give up.
RETRY_AFTER_SECONDS = 5
# SQLSTATE classes meaning "the server cannot do this now": 08 connection exception,
# 53 insufficient resources (too many connections), 57 operator intervention (shutdown,
# starting up, a statement cancelled by `statement_timeout`).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def is_database_outage(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES)


def unavailable_response() -> JSONResponse:
    return problem_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        detail="A service this request needs is not answering; try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_outage_handlers(app: FastAPI) -> None:
    async def outage(request: Request, exc: Exception) -> JSONResponse:
        logger.warning(
            "dependency unavailable on %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc,
        )
        return unavailable_response()

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and is_database_outage(exc):
            return await outage(request, exc)
        raise exc  # a real failure (a bug, a constraint): the 500 handler logs it

    for network_error in (ConnectionError, TimeoutError, PoolTimeoutError):
        app.add_exception_handler(network_error, outage)
    app.add_exception_handler(DBAPIError, database_error)
