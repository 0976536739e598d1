from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import OutboxEmail


async def lock_unsent(session: AsyncSession, limit: int) -> Sequence[OutboxEmail]:
    """The oldest unsent emails, locked. SKIP LOCKED: two delivery runs at once (two
    requests, or two processes) each take different emails instead of sending one twice."""
    emails = await session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None))
        .order_by(OutboxEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return emails.all()
