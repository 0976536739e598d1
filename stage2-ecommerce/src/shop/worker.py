"""The background worker: `python -m shop.worker` (or `make worker STAGE=stage2-ecommerce`).

It runs arq on the same Redis the API uses. Every second it relays committed outbox rows
to the queue; it sends the emails those rows ask for, retrying with backoff when the mail
server fails; and every hour it forgets expired idempotency keys.

`python -m shop.worker --check` is the container health check: it exits 0 if a worker on
this queue has reported itself alive in the last few seconds, 1 otherwise.
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

from roadmap_shared.database import Database
from roadmap_shared.jobs import deserialize_job, serialize_job
from roadmap_shared.logging import configure_logging
from roadmap_shared.mail import Mailer
from roadmap_shared.smtp import build_mailer
from shop.config import Settings, get_settings
from shop.jobs.tasks import (
    Context,
    purge_idempotency_keys,
    relay_outbox,
    send_low_stock_alert,
    send_order_confirmation,
)

# While it runs, the worker rewrites a key in Redis this often (`<queue>:health-check`,
# expiring a second later); a worker that hangs or dies stops renewing it. (arq's default,
# an hour, would keep a dead worker looking healthy for most of that hour.)
HEALTH_CHECK_SECONDS = 10


async def _startup(ctx: Context) -> None:
    settings: Settings = ctx["settings"]
    ctx["database"] = Database.from_settings(settings, pool_size=5, max_overflow=0)


async def _shutdown(ctx: Context) -> None:
    await ctx["database"].dispose()


def worker_options(
    settings: Settings, *, mailer: Mailer | None = None, with_schedule: bool = True
) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`. Tests may pass a fake mailer, and leave
    out the schedule (run in burst mode, a cron job would keep the queue from ever emptying)."""
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
        "ctx": {"settings": settings, "mailer": mailer or build_mailer(settings)},
        "max_tries": settings.job_max_tries,
        # Results are kept (and so outbox job ids remembered, see shop.jobs.relay) a day.
        "keep_result": 24 * 3600,
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }


async def is_worker_alive(settings: Settings) -> bool:
    """Whether a worker on `settings.jobs_queue` has renewed its health-check key lately.

    arq's own check reads the key; a Redis that cannot be reached means no worker either.
    """
    # One quick attempt: a health check that retries for seconds outlasts its own timeout.
    redis_settings = dataclasses.replace(RedisSettings.from_dsn(settings.redis_url), conn_retries=0)
    try:
        exit_code = await async_check_health(redis_settings, queue_name=settings.jobs_queue)
    except (RedisError, OSError):
        return False
    return exit_code == 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shop.worker", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if a worker is alive, 1 otherwise (a container health check)",
    )
    arguments = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    if arguments.check:
        sys.exit(0 if asyncio.run(is_worker_alive(settings)) else 1)
    run_worker(worker_options(settings))


if __name__ == "__main__":
    main()
