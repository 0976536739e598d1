"""Handlers and checks the messaging tests share."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from roadmap_shared.messaging import Event
from tests.messaging_models import Effect


async def record_effect(session: AsyncSession, event: Event) -> None:
    session.add(Effect(message_id=event.message_id))


async def effects(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Effect)) or 0


def skipped_duplicates(caplog: pytest.LogCaptureFixture) -> int:
    """How many deliveries the consumer recognised as already processed."""
    return sum(
        "already processed" in record.getMessage()
        for record in caplog.records
        # Only our records: a few of aio-pika's cannot render their arguments mid-reconnect.
        if record.name.startswith("roadmap_shared.messaging")
    )
