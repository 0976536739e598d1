"""The app factory: `uvicorn --factory auth_service.main:create_app`."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from auth_service.auth.router import router as auth_router
from auth_service.config import Settings, get_settings
from auth_service.emails.sender import EmailSender, LoggingEmailSender
from auth_service.emails.service import EmailOutbox
from auth_service.tasks.router import router as tasks_router
from auth_service.users.router import router as users_router
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.security.passwords import HASHING_THREADS
from roadmap_shared.settings import Environment

logger = logging.getLogger(__name__)

DESCRIPTION = """
Accounts, sessions and user-owned tasks: passwords hashed with argon2id, short-lived JWT
access tokens, rotating refresh tokens with reuse detection, sessions that can be revoked
at once, roles, and rate-limited sign-in.

Click **Authorize** and sign in with your email address as the username.
"""


def create_app(
    settings: Settings | None = None, *, email_sender: EmailSender | None = None
) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings.database_url)
    # Short timeouts: when Redis is down the rate limiter lets requests through (it fails
    # open) instead of holding every login for the default minute.
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)

    async def ping_redis() -> None:
        await redis.ping()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.email_outbox.wait_for_deliveries()
        await redis.aclose()
        await database.dispose()

    app = create_base_app(
        settings,
        title="Auth service",
        description=DESCRIPTION,
        routers=[auth_router, users_router, tasks_router],
        lifespan=lifespan,
        readiness_checks={"postgres": database.ping, "redis": ping_redis},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_codec = settings.token_codec()
    app.state.rate_limiter = RateLimiter(redis)
    # As many as the threads that hash passwords (see roadmap_shared.security.passwords):
    # a login holding a slot is hashing, not queueing with a database connection in hand.
    app.state.hashing_slots = asyncio.Semaphore(HASHING_THREADS)
    if email_sender is None:
        if settings.environment is Environment.PRODUCTION:
            logger.warning(
                "emails are written to the log, reset links included: pass an EmailSender "
                "for your mail provider to create_app"
            )
        email_sender = LoggingEmailSender(from_address=settings.email_sender_address)
    app.state.email_outbox = EmailOutbox(database, email_sender)
    return app
