"""`python -m rides.worker`: the dispatcher. Run as many as you like: each trip is handled
by the one holding its lease, and a crashed one's trips are taken over by the others."""

import asyncio
import contextlib
import os
import signal
import socket

from redis.asyncio import Redis

from rides.config import get_settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.streams import TripRequests
from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from roadmap_shared.resources import REDIS_TIMEOUT_SECONDS


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    database = Database.from_settings(settings)
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    dispatcher = Dispatcher(
        settings=settings,
        sessions=database.sessionmaker,
        redis=redis,
        geo=GeoIndex(
            redis, city=settings.city, stale_after_seconds=settings.heartbeat_timeout_seconds
        ),
        offers=Offers(redis, offer_seconds=settings.offer_seconds),
        queue=TripRequests(redis),
        name=f"{socket.gethostname()}-{os.getpid()}",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await dispatcher.run(stop)
    finally:
        await redis.aclose()
        await database.dispose()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
