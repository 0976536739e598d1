"""Accounts and sessions: register, sign in, refresh, sign out, change the password, and
check the access token of each request.

Functions take the request's database session and leave committing to the request, with
one exception, in `refresh`, explained there.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth import email_flows, repository
from auth_service.auth.password_policy import check_new_password, password_rejected
from auth_service.auth.schemas import RegisterRequest
from auth_service.auth.tokens import (
    hash_token,
    issue_access_token,
    new_opaque_token,
    read_access_token,
)
from auth_service.config import Settings
from auth_service.emails.service import EmailOutbox
from auth_service.models import EmailTokenPurpose, LoginSession, SessionEndReason, User
from auth_service.users import repository as users
from roadmap_shared.database import utcnow
from roadmap_shared.errors import BadRequest, Conflict, Forbidden, Unauthorized
from roadmap_shared.security.passwords import check_password, hash_password, verify_password
from roadmap_shared.security.tokens import InvalidToken, TokenCodec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    access_token_expires_in: int  # seconds
    refresh_token: str
    refresh_token_expires_in: int


@dataclass(frozen=True)
class Authentication:
    """Who is calling, and through which login session."""

    user: User
    session_id: uuid.UUID


def invalid_access_token(detail: str) -> Unauthorized:
    # RFC 6750 section 3.1: `error="invalid_token"` tells the client to get a new token
    # (refresh, or sign in) rather than to retry the same request.
    return Unauthorized(detail, scheme='Bearer error="invalid_token"')


def invalid_refresh_token() -> Unauthorized:
    return Unauthorized("The refresh token is not valid; sign in again.")


async def register(
    session: AsyncSession, settings: Settings, outbox: EmailOutbox, data: RegisterRequest
) -> User:
    check_new_password(
        data.password, email=data.email, min_length=settings.password_min_length, field="password"
    )
    # Hash first, then try the INSERT: a taken address costs the same hashing time as a
    # free one, so response times do not tell which addresses have accounts.
    password_hash = await hash_password(data.password)
    user = User(email=data.email, display_name=data.display_name, password_hash=password_hash)
    if not await users.add_unless_email_taken(session, user):
        raise Conflict("An account with this email address already exists.")
    await email_flows.send_verification_email(session, settings, outbox, user)
    logger.info("account registered", extra={"user_id": user.id})
    return user


async def login(
    session: AsyncSession,
    settings: Settings,
    codec: TokenCodec,
    hashing_slots: asyncio.Semaphore,
    *,
    email: str,
    password: str,
) -> IssuedTokens:
    # Reading the user takes a database connection, held until the request ends. Logins
    # queueing for the hashing threads would each hold one, and a burst of them would drain
    # the pool for every other request; so a login waits for a hashing slot first.
    async with hashing_slots:
        user = await users.get_by_email(session, email)
        # With no user, the check still spends a hash on a dummy, so "no such account"
        # and "wrong password" take the same time and give the same answer.
        checked = await check_password(user.password_hash if user else None, password)
    if user is None or not checked.matches:
        raise Unauthorized("Incorrect email or password.")
    # The password was checked against the row as it was read before hashing. A password
    # change, a reset or a deactivation committing since then has ended every session that
    # existed, but not the one this login is about to start. So lock the row and read it
    # again: a change that commits first shows here, and one that comes later waits for
    # this login to commit, then ends its session too.
    checked_hash = user.password_hash
    await users.lock(session, user)
    if user.password_hash != checked_hash:
        raise Unauthorized("Incorrect email or password.")
    if not user.is_active:
        # Only said to someone who knows the password.
        raise Forbidden("This account has been deactivated.")
    if checked.upgraded_hash is not None:
        # The hashing parameters have been raised since this hash was made.
        user.password_hash = checked.upgraded_hash
    return await start_session(session, settings, codec, user)


async def start_session(
    session: AsyncSession, settings: Settings, codec: TokenCodec, user: User
) -> IssuedTokens:
    """A new login session (a new refresh token family) and its first pair of tokens."""
    now = utcnow()
    login_session = LoginSession(
        id=uuid.uuid4(), user_id=user.id, expires_at=now + settings.session_lifetime
    )
    session.add(login_session)
    await session.flush()
    return await _issue_tokens(session, settings, codec, login_session, now)


async def refresh(
    session: AsyncSession, settings: Settings, codec: TokenCodec, presented_token: str
) -> IssuedTokens:
    """Rotation: the presented refresh token is used up and a new pair is issued."""
    now = utcnow()
    token = await repository.refresh_token_for_update(session, hash_token(presented_token))
    if token is None:
        raise invalid_refresh_token()
    login_session = token.session
    if token.used_at is not None:
        # This token was already exchanged, so two parties have held it: the client and a
        # thief. We cannot tell which one is asking, so the whole family goes.
        await repository.revoke_session(
            session, login_session.id, reason=SessionEndReason.REFRESH_TOKEN_REUSED, now=now
        )
        # Commit before raising: an error rolls the request's transaction back, and this
        # revocation must survive the error it causes.
        await session.commit()
        logger.warning(
            "refresh token reused; session revoked",
            extra={"user_id": login_session.user_id, "session_id": str(login_session.id)},
        )
        raise Unauthorized(
            "This refresh token has already been used, so the session has been ended "
            "for safety. Sign in again."
        )
    if not login_session.is_live(now) or token.expires_at <= now:
        raise invalid_refresh_token()
    token.used_at = now
    return await _issue_tokens(session, settings, codec, login_session, now)


async def _issue_tokens(
    session: AsyncSession,
    settings: Settings,
    codec: TokenCodec,
    login_session: LoginSession,
    now: datetime,
) -> IssuedTokens:
    refresh_token = new_opaque_token()
    # A refresh token never outlives its session.
    refresh_expires_at = min(now + settings.refresh_token_lifetime, login_session.expires_at)
    repository.add_refresh_token(
        session,
        login_session=login_session,
        token_hash=hash_token(refresh_token),
        now=now,
        expires_at=refresh_expires_at,
    )
    access = issue_access_token(
        codec,
        user_id=login_session.user_id,
        session_id=login_session.id,
        lifetime=settings.access_token_lifetime,
        now=now,
    )
    return IssuedTokens(
        access_token=access.token,
        access_token_expires_in=round((access.expires_at - now).total_seconds()),
        refresh_token=refresh_token,
        refresh_token_expires_in=round((refresh_expires_at - now).total_seconds()),
    )


async def authenticate(session: AsyncSession, codec: TokenCodec, token: str) -> Authentication:
    """The caller behind an access token: a valid signature and claims, and a session
    that is live and belongs to an active user, checked now, not when the token was made."""
    try:
        claims = read_access_token(codec, token)
    except InvalidToken as exc:
        raise invalid_access_token("The access token is invalid or has expired.") from exc
    user = await repository.user_of_live_session(
        session, user_id=claims.user_id, session_id=claims.session_id, now=utcnow()
    )
    if user is None:
        raise invalid_access_token("This session has ended; sign in again.")
    return Authentication(user=user, session_id=claims.session_id)


async def logout(session: AsyncSession, authentication: Authentication) -> None:
    await repository.revoke_session(
        session, authentication.session_id, reason=SessionEndReason.LOGOUT, now=utcnow()
    )


async def logout_everywhere(session: AsyncSession, user: User) -> None:
    await repository.revoke_all_sessions(
        session, user.id, reason=SessionEndReason.LOGOUT_ALL, now=utcnow()
    )


async def change_password(
    session: AsyncSession,
    settings: Settings,
    codec: TokenCodec,
    user: User,
    *,
    current_password: str,
    new_password: str,
) -> IssuedTokens:
    """Sets a new password and ends every session, this one included (whoever else knew
    the old password is signed out); returns tokens for a fresh session for this client."""
    if not await verify_password(user.password_hash, current_password):
        raise BadRequest("The current password is not correct.")
    check_new_password(
        new_password,
        email=user.email,
        min_length=settings.password_min_length,
        field="new_password",
    )
    if new_password == current_password:
        raise password_rejected(
            "new_password", ["Choose a password different from the current one."]
        )
    user.password_hash = await hash_password(new_password)
    await repository.revoke_all_sessions(
        session, user.id, reason=SessionEndReason.PASSWORD_CHANGED, now=utcnow()
    )
    # A reset link emailed before the change must not undo it.
    await repository.discard_email_tokens(
        session, user_id=user.id, purpose=EmailTokenPurpose.PASSWORD_RESET
    )
    return await start_session(session, settings, codec, user)
