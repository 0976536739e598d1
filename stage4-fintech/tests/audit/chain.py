"""Reading the chain back, for assertions."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.models import AuditRecord


async def records(sessions: async_sessionmaker[AsyncSession]) -> list[AuditRecord]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditRecord).order_by(AuditRecord.sequence)))
