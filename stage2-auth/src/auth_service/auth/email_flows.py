"""Flows that prove control of an email address: verification and password reset.

Each sends a link holding a single-use token that expires. The token is stored hashed, like
a refresh token, and the email goes through the outbox, so it is sent only if the token
was committed.
"""

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth import repository
from auth_service.auth.password_policy import check_new_password
from auth_service.auth.tokens import hash_token, new_opaque_token
from auth_service.config import Settings
from auth_service.emails.service import EmailOutbox
from auth_service.emails.templates import password_reset_email, verification_email
from auth_service.models import EmailTokenPurpose, SessionEndReason, User
from auth_service.users import repository as users
from roadmap_shared.database import utcnow
from roadmap_shared.errors import BadRequest, Conflict
from roadmap_shared.security.passwords import hash_password

logger = logging.getLogger(__name__)


def invalid_link() -> BadRequest:
    return BadRequest("This link is invalid, has expired or has already been used.")


async def _new_email_token(
    session: AsyncSession, settings: Settings, user: User, purpose: EmailTokenPurpose
) -> str:
    token = new_opaque_token()
    now = utcnow()
    lifetime = (
        settings.password_reset_lifetime
        if purpose is EmailTokenPurpose.PASSWORD_RESET
        else settings.email_verification_lifetime
    )
    await repository.replace_email_token(
        session,
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_token(token),
        now=now,
        expires_at=now + lifetime,
    )
    return token


async def send_verification_email(
    session: AsyncSession, settings: Settings, outbox: EmailOutbox, user: User
) -> None:
    if user.email_verified_at is not None:
        raise Conflict("This email address is already verified.")
    token = await _new_email_token(session, settings, user, EmailTokenPurpose.EMAIL_VERIFICATION)
    outbox.send(
        session,
        verification_email(
            to=user.email,
            frontend_url=settings.frontend_url,
            token=token,
            hours=settings.email_verification_hours,
        ),
    )


async def verify_email(session: AsyncSession, token: str) -> None:
    now = utcnow()
    user_id = await repository.use_email_token(
        session,
        token_hash=hash_token(token),
        purpose=EmailTokenPurpose.EMAIL_VERIFICATION,
        now=now,
    )
    user = await users.get_by_id(session, user_id) if user_id is not None else None
    if user is None:
        raise invalid_link()
    if user.email_verified_at is None:
        user.email_verified_at = now


async def request_password_reset(
    session: AsyncSession, settings: Settings, outbox: EmailOutbox, email: str
) -> None:
    """Emails a reset link if the address has an active account. The caller answers the
    same either way, so the endpoint does not tell who has an account."""
    user = await users.get_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = await _new_email_token(session, settings, user, EmailTokenPurpose.PASSWORD_RESET)
    outbox.send(
        session,
        password_reset_email(
            to=user.email,
            frontend_url=settings.frontend_url,
            token=token,
            minutes=settings.password_reset_minutes,
        ),
    )


async def reset_password(
    session: AsyncSession, settings: Settings, *, token: str, new_password: str
) -> None:
    """Sets a new password from a reset link and ends every session of the account.

    If the new password is refused, the request rolls back, the token with it, and the
    same link can be used again with a better password.
    """
    now = utcnow()
    user_id = await repository.use_email_token(
        session, token_hash=hash_token(token), purpose=EmailTokenPurpose.PASSWORD_RESET, now=now
    )
    user = await users.get_by_id(session, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise invalid_link()
    check_new_password(
        new_password,
        email=user.email,
        min_length=settings.password_min_length,
        field="new_password",
    )
    user.password_hash = await hash_password(new_password)
    # The link reached the inbox, which proves the address as well as a verification would.
    if user.email_verified_at is None:
        user.email_verified_at = now
    await repository.revoke_all_sessions(
        session, user.id, reason=SessionEndReason.PASSWORD_RESET, now=now
    )
    await repository.discard_email_tokens(
        session, user_id=user.id, purpose=EmailTokenPurpose.PASSWORD_RESET
    )
    logger.info("password reset", extra={"user_id": user.id})
