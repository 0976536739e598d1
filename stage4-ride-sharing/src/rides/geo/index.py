"""Where the available drivers are: Redis GEO, with positions that go stale.

Four keys per city:
- `…:positions`, a GEO set (a sorted set underneath) of every driver's last position;
- `…:located`, a sorted set of the same drivers scored by when that position was sent;
- `…:seen`, the same scored by their last sign of life (a position or a heartbeat);
- `…:available`, a set of the drivers who said they take trips.

When a position was sent and when the driver was last heard of are two times: a heartbeat
keeps a driver matchable, but a check of the speed between two positions must divide by
the time between those positions, not by the moment since the last heartbeat.

A GEO member cannot expire on its own, so freshness is kept apart: a search drops the
candidates not seen for `stale_after` seconds, and `prune` removes them for good.
Availability is apart too, so a driver toggling it does not rewrite their position.
"""

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from rides.awaited import awaited

# One step of the search is one script, one round trip instead of two: the nearest
# members, then those of them available and seen since the cutoff (ARGV[5]). Returns how
# many members the search met, and the usable ones with their distance, nearest first.
SEARCH = """
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2],
    'BYRADIUS', ARGV[3], 'km', 'ASC', 'COUNT', ARGV[4], 'WITHDIST')
local usable = {}
for _, hit in ipairs(found) do
    if redis.call('SISMEMBER', KEYS[2], hit[1]) == 1 then
        local seen = redis.call('ZSCORE', KEYS[3], hit[1])
        if seen and tonumber(seen) >= tonumber(ARGV[5]) then
            table.insert(usable, hit)
        end
    end
end
return {#found, usable}
"""


# A driver goes offline only if the socket that closed is still theirs (ARGV[2], at
# KEYS[5]; a key gone with Redis's memory counts as theirs too), checked and done in one
# step: between a check and the removals, a new socket could put the driver back on the
# map, and then be wiped off it, availability and all.
FORGET = """
local current = redis.call('GET', KEYS[5])
if current and current ~= ARGV[2] then
    return 0
end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
"""


# Steps of one search (`GeoIndex.nearest`) at most, widening or looking further: with ten
# members asked for at first, the eighth step asks for 1,280.
MAX_SEARCH_STEPS = 8


@dataclass(frozen=True)
class Candidate:
    driver_id: int
    distance_km: float


class GeoIndex:
    def __init__(self, redis: Redis, *, city: str, stale_after_seconds: float) -> None:
        self._redis = redis
        prefix = f"rides:geo:{city}"
        self._positions = f"{prefix}:positions"
        self._located = f"{prefix}:located"
        self._seen = f"{prefix}:seen"
        self._available = f"{prefix}:available"
        self._stale_after = stale_after_seconds
        self._search = redis.register_script(SEARCH)
        self._forget = redis.register_script(FORGET)

    @property
    def keys(self) -> tuple[str, str, str]:
        """The positions, located and seen keys, for a script that writes a position."""
        return self._positions, self._located, self._seen

    async def record(self, driver_id: int, lat: float, lng: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            now = time.time()
            pipe.geoadd(self._positions, (lng, lat, str(driver_id)))
            pipe.zadd(self._located, {str(driver_id): now})
            pipe.zadd(self._seen, {str(driver_id): now})
            await pipe.execute()

    async def last_seen(self, driver_id: int) -> tuple[float, float, float] | None:
        """(lat, lng, when it was sent) of the driver's last position, or None."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.geopos(self._positions, str(driver_id))
            pipe.zscore(self._located, str(driver_id))
            [position], seen = await pipe.execute()
        if position is None or seen is None:
            return None
        lng, lat = position
        return float(lat), float(lng), float(seen)

    async def touch(self, driver_id: int) -> None:
        """A heartbeat without a position: the driver is still there."""
        await self._redis.zadd(self._seen, {str(driver_id): time.time()}, xx=True)

    async def set_available(self, driver_id: int, available: bool) -> None:
        if available:
            await awaited(self._redis.sadd(self._available, str(driver_id)))
        else:
            await awaited(self._redis.srem(self._available, str(driver_id)))

    async def forget(self, driver_id: int, *, connection_key: str, connection_id: str) -> bool:
        """A driver whose socket closed goes offline (no position, not available), if that
        socket is still the driver's current one: `connection_key` names it, and a driver
        who reconnected has named the new one there. True if the driver was forgotten."""
        forgotten = await self._forget(
            keys=[self._positions, self._located, self._seen, self._available, connection_key],
            args=[driver_id, connection_id],
        )
        return bool(forgotten)

    async def is_fresh(self, driver_id: int) -> bool:
        seen = await self._redis.zscore(self._seen, str(driver_id))
        return seen is not None and seen >= time.time() - self._stale_after

    async def nearest(
        self,
        lat: float,
        lng: float,
        *,
        radii_km: list[float],
        count: int,
        exclude: frozenset[int] = frozenset(),
        max_steps: int = MAX_SEARCH_STEPS,
    ) -> list[Candidate]:
        """The nearest available, fresh drivers, nearest first, from the smallest radius
        that has any, leaving out `exclude`. Each step asks Redis for `count` members, so a
        search in a dense city costs about the same as in an empty one; one wide sorted
        search would sort every driver within the widest radius.

        The members come nearest first, so when a step fills its `count` with busy, stale
        or excluded drivers, a wider radius would bring back the same ones: the search
        looks past them in the same radius instead (twice as many each time), and widens
        only once it has seen everyone within it.

        It gives up after `max_steps` steps, however many radii are left: in a city where
        every driver near the pickup is busy, each step asks for twice as many as the last,
        and the search would otherwise read every driver within the widest radius. A trip
        that finds nobody in that many steps is told that no driver is near."""
        asked, steps = count, 0
        for radius in radii_km:
            while True:
                if steps == max_steps:
                    return []
                steps += 1
                seen, usable = await self._search(
                    keys=[self._positions, self._available, self._seen],
                    args=[lng, lat, radius, asked, time.time() - self._stale_after],
                )
                candidates = [
                    Candidate(int(member), float(distance))
                    for member, distance in usable
                    if int(member) not in exclude
                ]
                if candidates:
                    return candidates[:count]
                if seen < asked:
                    break  # everyone within this radius was looked at
                asked *= 2
        return []

    async def prune(self) -> int:
        """Removes the drivers not seen for `stale_after` seconds; returns how many."""
        cutoff = time.time() - self._stale_after
        stale = await self._redis.zrangebyscore(self._seen, "-inf", cutoff)
        if stale:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._positions, *stale)
                pipe.zrem(self._located, *stale)
                pipe.zrem(self._seen, *stale)
                pipe.srem(self._available, *stale)
                await pipe.execute()
        return len(stale)
