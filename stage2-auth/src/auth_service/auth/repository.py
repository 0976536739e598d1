"""SQL for login sessions, refresh tokens and emailed single-use tokens."""

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from auth_service.models import (
    EmailToken,
    EmailTokenPurpose,
    LoginSession,
    RefreshToken,
    SessionEndReason,
    User,
)


async def user_of_live_session(
    session: AsyncSession, *, user_id: int, session_id: uuid.UUID, now: datetime
) -> User | None:
    """The user, if the session is theirs, not revoked, not expired, and they are active.

    Every authenticated request runs this one query: it is the revocation check, and it
    loads the user the request needs anyway.
    """
    return await session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.id == session_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
            User.id == user_id,
            User.is_active,
        )
    )


def add_refresh_token(
    session: AsyncSession,
    *,
    login_session: LoginSession,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        RefreshToken(
            session_id=login_session.id,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
        )
    )


async def refresh_token_for_update(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """The refresh token with its session, locked until the transaction ends.

    The lock makes rotation a one-at-a-time affair: of two requests presenting the same
    token at once, the second waits, then sees the token already used.
    """
    return await session.scalar(
        select(RefreshToken)
        .options(joinedload(RefreshToken.session, innerjoin=True))
        .where(RefreshToken.token_hash == token_hash)
        .with_for_update(of=RefreshToken)
    )


async def revoke_session(
    session: AsyncSession, session_id: uuid.UUID, *, reason: SessionEndReason, now: datetime
) -> None:
    await session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


async def revoke_all_sessions(
    session: AsyncSession, user_id: int, *, reason: SessionEndReason, now: datetime
) -> None:
    await session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


async def replace_email_token(
    session: AsyncSession,
    *,
    user_id: int,
    purpose: EmailTokenPurpose,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Stores a new token for `purpose`; links sent earlier for it stop working."""
    await discard_email_tokens(session, user_id=user_id, purpose=purpose)
    session.add(
        EmailToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
        )
    )


async def use_email_token(
    session: AsyncSession, *, token_hash: str, purpose: EmailTokenPurpose, now: datetime
) -> int | None:
    """Marks the token used and returns its user's id; None if it is unknown, expired or
    used. One conditional UPDATE: of two requests racing with one token, the second finds
    `used_at` already set (PostgreSQL rechecks the condition after waiting for the row)."""
    return await session.scalar(
        update(EmailToken)
        .where(
            EmailToken.token_hash == token_hash,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(EmailToken.user_id)
    )


async def discard_email_tokens(
    session: AsyncSession, *, user_id: int, purpose: EmailTokenPurpose
) -> None:
    """Deletes the user's unused tokens for `purpose`, so their links no longer work."""
    await session.execute(
        delete(EmailToken).where(
            EmailToken.user_id == user_id,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
        )
    )
