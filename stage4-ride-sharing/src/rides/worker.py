"""`python -m rides.worker`: the dispatcher, and beside it the sweeper that queues again a
trip whose stream entry was lost and the flusher that writes the pings of trips in
progress to PostgreSQL. Run as many as you like: each trip is handled by the one
holding its lease, a crashed one's trips are taken over by the others, and the sweepers
queue a lost trip once between them.

`python -m rides.worker --check` is the container health check: it exits 0 if this host's
dispatcher has stepped in the last few seconds, 1 otherwise."""

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from rides.config import Settings, get_settings
from rides.dispatch.dispatcher import ALIVE_KEY, Dispatcher
from rides.dispatch.offers import Offers
from rides.dispatch.sweeper import Sweeper
from rides.geo.index import GeoIndex
from rides.streams import TripRequests
from rides.trips.flusher import PingFlusher
from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from roadmap_shared.resources import REDIS_TIMEOUT_SECONDS

ALIVE_WITHIN_SECONDS = 10


def redis_client(settings: Settings) -> Redis:
    client: Redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return client


async def dispatch(settings: Settings) -> None:
    database = Database.from_settings(settings)
    redis = redis_client(settings)
    queue = TripRequests(redis)
    dispatcher = Dispatcher(
        settings=settings,
        sessions=database.sessionmaker,
        redis=redis,
        geo=GeoIndex(
            redis, city=settings.city, stale_after_seconds=settings.heartbeat_timeout_seconds
        ),
        offers=Offers(redis, offer_seconds=settings.offer_seconds),
        queue=queue,
        name=f"{socket.gethostname()}-{os.getpid()}",
    )
    sweeper = Sweeper(
        sessions=database.sessionmaker,
        queue=queue,
        requeue_after_seconds=settings.requeue_after_seconds,
    )
    flusher = PingFlusher(sessions=database.sessionmaker, redis=redis)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(
            dispatcher.run(stop),
            sweeper.run(stop, every_seconds=settings.sweep_every_seconds),
            flusher.run(stop, every_seconds=settings.flush_pings_every_seconds),
        )
    finally:
        await redis.aclose()
        await database.dispose()


async def is_alive(settings: Settings) -> bool:
    redis = redis_client(settings)
    try:
        steps = await redis.zrange(ALIVE_KEY, 0, -1, withscores=True)
    except (RedisError, OSError):
        return False
    finally:
        await redis.aclose()
    here = f"{socket.gethostname()}-".encode()
    recent = time.time() - ALIVE_WITHIN_SECONDS
    return any(name.startswith(here) and when >= recent for name, when in steps)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rides.worker", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 0 if the dispatcher is alive")
    arguments = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    if arguments.check:
        sys.exit(0 if asyncio.run(is_alive(settings)) else 1)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(dispatch(settings))


if __name__ == "__main__":
    main()
