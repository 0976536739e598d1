"""The audit consumer in a process of its own that SIGKILLs itself once its handler has
run for the first message: at the moment `AUDIT_TEST_KILL_AT` names, the session's
`before_commit` (the record flushed, not committed) or `after_commit` (committed, not
acknowledged). Either way the broker never gets the ack (see test_consumer.py)."""

import asyncio
import os
import signal

from aio_pika import connect_robust
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from audit.config import get_settings
from audit.handlers import Auditor
from audit.models import ProcessedMessage
from audit.worker import subscription
from roadmap_shared.database import Database
from roadmap_shared.messaging import Consumer, Event


def die(_: Session) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    settings = get_settings()
    auditor = Auditor()

    async def record_then_die(session: AsyncSession, event: Event) -> None:
        await auditor.record(session, event)
        orm_event.listen(session.sync_session, os.environ["AUDIT_TEST_KILL_AT"], die)

    database = Database.from_settings(settings)
    consumer = Consumer(
        subscription(settings),
        dict.fromkeys(Auditor.EVENT_TYPES, record_then_die),
        database.sessionmaker,
        ProcessedMessage,
    )
    await consumer.start(await connect_robust(settings.rabbitmq_url))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
