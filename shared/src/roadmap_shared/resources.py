"""What an app opens once and closes at shutdown: PostgreSQL, Redis, and whatever a stage adds.

Every stage with a database wires these the same way, so the app factory does it:

    resources = AppResources(Database.from_settings(settings), redis_url=settings.redis_url)
    resources.close_at_shutdown(storage.close)  # a stage's own client, closed first
    app = create_base_app(settings, title="Shop", resources=resources, ...)

`create_base_app` then puts `resources.database` in `app.state.database` (where `SessionDep`
finds it), closes everything in its lifespan, and reports both services on `/readyz`:
PostgreSQL as required, Redis as optional (the stages answer without it, only slower).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from roadmap_shared.circuit import CircuitBreaker
from roadmap_shared.database import Database

# Redis holds a cache and rate limits here, never the truth: when it does not answer, the
# callers fall back (to PostgreSQL, to allowing the request) after this long, instead of
# holding every request for the client's default minute.
REDIS_TIMEOUT_SECONDS = 0.5

Close = Callable[[], Awaitable[object]]
# A readiness check raises (or times out) when its dependency cannot serve requests.
ReadinessCheck = Callable[[], Awaitable[object]]


class AppResources:
    def __init__(self, database: Database, *, redis_url: str | None = None) -> None:
        self.database = database
        # One breaker for the one Redis: once the limiter finds it hung, the cache skips it too.
        self.redis_breaker = CircuitBreaker("redis")
        self._redis: Redis | None = (
            Redis.from_url(
                redis_url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            if redis_url
            else None
        )
        self._closers: list[Close] = [self.database.dispose]
        if self._redis is not None:
            self._closers.append(self._redis.aclose)

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            raise RuntimeError("these resources were made without a redis_url")
        return self._redis

    def close_at_shutdown(self, close: Close) -> None:
        """Closes `close` at shutdown, before what was opened earlier (which it may use)."""
        self._closers.append(close)

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        return {"postgres": self.database.ping}

    def optional_readiness_checks(self) -> dict[str, ReadinessCheck]:
        return {"redis": self._ping_redis} if self._redis is not None else {}

    async def _ping_redis(self) -> None:
        await self.redis.ping()

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for close in reversed(self._closers):
                await close()
