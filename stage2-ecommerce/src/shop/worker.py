"""The background worker: `python -m shop.worker` (or `make worker STAGE=stage2-ecommerce`).

It runs arq on the same Redis the API uses. Every second it relays committed outbox rows
to the queue; it sends the emails those rows ask for, retrying with backoff when the mail
server fails; and every hour it forgets expired idempotency keys.
"""

import json
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import run_worker

from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from shop.config import Settings, get_settings
from shop.jobs.mail import FileMailer, Mailer
from shop.jobs.tasks import (
    Context,
    purge_idempotency_keys,
    relay_outbox,
    send_low_stock_alert,
    send_order_confirmation,
)


def serialize_job(job: dict[str, Any]) -> bytes:
    # arq pickles by default, and unpickling runs code: anyone who could write to Redis
    # could run code in the worker. JSON carries only data.
    return json.dumps(job, default=str).encode()


def deserialize_job(data: bytes) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(data)
    return job


# Anything else that enqueues to this queue must use the same pair:
# `arq.create_pool(..., job_serializer=serialize_job, job_deserializer=deserialize_job)`.


async def _startup(ctx: Context) -> None:
    settings: Settings = ctx["settings"]
    ctx["database"] = Database(settings.database_url, pool_size=5, max_overflow=0)


async def _shutdown(ctx: Context) -> None:
    await ctx["database"].dispose()


def worker_options(
    settings: Settings, *, mailer: Mailer | None = None, with_schedule: bool = True
) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`. Tests pass a fake mailer and leave out
    the schedule (run in burst mode, a cron job would keep the queue from ever emptying)."""
    every_few_seconds = set(range(0, 60, settings.outbox_poll_seconds))
    return {
        "functions": [
            func(send_order_confirmation, max_tries=settings.job_max_tries),
            func(send_low_stock_alert, max_tries=settings.job_max_tries),
            func(relay_outbox, max_tries=1),  # the next run picks up where this one failed
            func(purge_idempotency_keys, max_tries=1),
        ],
        "cron_jobs": [
            cron(relay_outbox, second=every_few_seconds, run_at_startup=True),
            cron(purge_idempotency_keys, minute=0, second=0),
        ]
        if with_schedule
        else [],
        "queue_name": settings.jobs_queue,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "ctx": {"settings": settings, "mailer": mailer or FileMailer(settings.mail_dir)},
        "max_tries": settings.job_max_tries,
        # Results are kept (and so outbox job ids remembered, see shop.jobs.relay) a day.
        "keep_result": 24 * 3600,
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
    }


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    run_worker(worker_options(settings))


if __name__ == "__main__":
    main()
