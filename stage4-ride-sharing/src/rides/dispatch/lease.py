"""A lease on a trip: while one dispatcher holds it, no other offers the trip.

`SET key token NX PX ttl` takes it only if nobody holds it, and it lapses by itself if
its holder dies. It is released (and renewed) only by whoever holds the token, by a script
that compares and acts in one step: a `GET` then `DEL` from the client would delete a lease
that lapsed in between and was taken by another dispatcher.

A lease makes double work unlikely; it does not make double assignment impossible (a
dispatcher paused past its lease still believes it holds it). PostgreSQL does that.
"""

import secrets

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class Lease:
    def __init__(self, redis: Redis, key: str, ttl_ms: int) -> None:
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)
        self._redis = redis
        self.key = key
        self._ttl_ms = ttl_ms
        self.token = secrets.token_hex(16)

    async def acquire(self) -> bool:
        async with self._redis.pipeline(transaction=False) as pipe:
            self.add_acquire(pipe)
            [taken] = await pipe.execute()
        return bool(taken)

    def add_acquire(self, pipe: Pipeline) -> None:
        """Queues the `SET NX` on `pipe`, for a caller that reads more in the same round
        trip; its reply is true if the lease was taken."""
        pipe.set(self.key, self.token, nx=True, px=self._ttl_ms)

    async def renew(self) -> bool:
        return bool(await self._renew(keys=[self.key], args=[self.token, self._ttl_ms]))

    async def release(self) -> bool:
        return bool(await self._release(keys=[self.key], args=[self.token]))


def trip_lease(redis: Redis, trip_id: int, ttl_seconds: float) -> Lease:
    return Lease(redis, f"rides:lease:trip:{trip_id}", int(ttl_seconds * 1000))
