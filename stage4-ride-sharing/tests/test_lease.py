"""The dispatcher's lease on a trip: one holder at a time; only the holder releases it."""

import asyncio

from redis.asyncio import Redis

from rides.dispatch.lease import trip_lease


async def test_one_holder_at_a_time(redis_client: Redis) -> None:
    leases = [trip_lease(redis_client, 1, ttl_seconds=5) for _ in range(20)]
    taken = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert taken.count(True) == 1


async def test_a_lapsed_holder_cannot_release_its_successors_lease(redis_client: Redis) -> None:
    first = trip_lease(redis_client, 1, ttl_seconds=0.1)
    assert await first.acquire()
    await asyncio.sleep(0.2)  # the first holder stalls past its lease
    second = trip_lease(redis_client, 1, ttl_seconds=5)
    assert await second.acquire()
    assert not await first.release()
    assert not await first.renew()
    assert await redis_client.get(second.key) == second.token
    assert await second.release()
    assert await redis_client.get(second.key) is None


async def test_a_lease_lapses_by_itself(redis_client: Redis) -> None:
    dead = trip_lease(redis_client, 1, ttl_seconds=0.1)
    assert await dead.acquire()
    await asyncio.sleep(0.2)
    assert await trip_lease(redis_client, 1, ttl_seconds=5).acquire()
