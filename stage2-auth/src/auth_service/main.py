"""The app factory: `uvicorn --factory auth_service.main:create_app`."""

import asyncio
import logging

from fastapi import FastAPI

from auth_service.admin.router import router as admin_router
from auth_service.auth.router import router as auth_router
from auth_service.config import Settings, get_settings
from auth_service.emails.sender import EmailSender, LoggingEmailSender
from auth_service.emails.service import EmailOutbox
from auth_service.tasks.router import router as tasks_router
from auth_service.users.router import router as users_router
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources
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
    resources = AppResources(Database.from_settings(settings), redis_url=settings.redis_url)
    app = create_base_app(
        settings,
        title="Auth service",
        description=DESCRIPTION,
        routers=[auth_router, users_router, admin_router, tasks_router],
        resources=resources,
    )
    app.state.token_codec = settings.token_codec()
    app.state.rate_limiter = RateLimiter(
        resources.redis, prefix="auth:ratelimit", breaker=resources.redis_breaker
    )
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
    app.state.email_outbox = EmailOutbox(resources.database, email_sender)
    # Emails already handed to the sender finish before the database closes under them.
    resources.close_at_shutdown(app.state.email_outbox.wait_for_deliveries)
    return app
