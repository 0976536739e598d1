"""The background worker: `python -m billing.worker` (or `make worker STAGE=stage3-payments`).

It runs arq on the same Redis the API uses. Every second it handles the webhook events
that are due (new ones, and retries whose backoff has passed) and relays committed outbox
rows to the queue as email jobs, which it runs with retries and backoff; every minute it
hands back events a dead worker left claimed; every hour it deletes processed events past
retention. The inbox table is the webhooks' queue: Redis only schedules the worker's runs.

`python -m billing.worker --check` is the container health check: it exits 0 if a worker
on this queue has reported itself alive in the last few seconds, 1 otherwise.
"""

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import async_check_health, run_worker
from redis.exceptions import RedisError

from billing.config import Settings, get_settings
from billing.emails.jobs import (
    relay_outbox,
    send_dispute_alert,
    send_payment_failed,
    send_payment_receipt,
)
from billing.stripe_gateway import StripeGateway
from billing.webhooks.processing import (
    process_due_events,
    prune_processed_events,
    sweep_stuck_events,
)
from roadmap_shared.database import Database
from roadmap_shared.jobs import deserialize_job, serialize_job
from roadmap_shared.logging import configure_logging
from roadmap_shared.mail import Mailer
from roadmap_shared.smtp import build_mailer

Context = dict[str, Any]
HEALTH_CHECK_SECONDS = 10


async def process_inbox(ctx: Context) -> int:
    return await process_due_events(ctx["database"], ctx["gateway"], ctx["settings"])


async def sweep_inbox(ctx: Context) -> int:
    return await sweep_stuck_events(ctx["database"], ctx["settings"])


async def prune_inbox(ctx: Context) -> int:
    return await prune_processed_events(ctx["database"], ctx["settings"])


async def _startup(ctx: Context) -> None:
    settings: Settings = ctx["settings"]
    ctx["database"] = Database.from_settings(settings, pool_size=5, max_overflow=0)
    ctx["gateway"] = StripeGateway(settings)


async def _shutdown(ctx: Context) -> None:
    await ctx["gateway"].close()
    await ctx["database"].dispose()


EMAILS = (send_payment_receipt, send_payment_failed, send_dispute_alert)


def worker_options(
    settings: Settings, *, mailer: Mailer | None = None, with_schedule: bool = True
) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`. Tests may pass a mailer of their own, and
    leave out the schedule (in burst mode, a cron job keeps the queue from ever emptying)."""
    every_second = set(range(60))
    return {
        "functions": [
            # Each run picks up where the last one stopped: no arq-level retries needed.
            *(func(job, max_tries=1) for job in (process_inbox, sweep_inbox, prune_inbox)),
            func(relay_outbox, max_tries=1),
            *(func(email, max_tries=settings.job_max_tries) for email in EMAILS),
        ],
        "cron_jobs": [
            cron(process_inbox, second=every_second, run_at_startup=True, unique=True),
            cron(relay_outbox, second=every_second, run_at_startup=True, unique=True),
            cron(sweep_inbox, second=0),
            cron(prune_inbox, minute=0, second=30),
        ]
        if with_schedule
        else [],
        "queue_name": settings.jobs_queue,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "ctx": {"settings": settings, "mailer": mailer or build_mailer(settings)},
        # Results are kept (and so outbox job ids remembered, see roadmap_shared.outbox) a day.
        "keep_result": 24 * 3600,
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }


async def is_worker_alive(settings: Settings) -> bool:
    redis_settings = dataclasses.replace(RedisSettings.from_dsn(settings.redis_url), conn_retries=0)
    try:
        exit_code = await async_check_health(redis_settings, queue_name=settings.jobs_queue)
    except (RedisError, OSError):
        return False
    return exit_code == 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m billing.worker", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 0 if a worker is alive")
    arguments = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    if arguments.check:
        sys.exit(0 if asyncio.run(is_worker_alive(settings)) else 1)
    run_worker(worker_options(settings))


if __name__ == "__main__":
    main()
