"""The durable queue of trip requests: a Redis stream read by a consumer group.

Why a stream and not `SELECT ... FOR UPDATE SKIP LOCKED` on the trips table: a dispatcher
holds a trip for up to a minute (15 s per offer, several offers), and SKIP LOCKED would
keep a transaction (and a pooled connection) open that long per trip. A stream entry is
delivered to one consumer of the group and stays in its pending list until acknowledged;
when a dispatcher dies, `XAUTOCLAIM` hands its entries idle longer than the lease to
another. PostgreSQL still decides every assignment, so the queue only has to lose nothing.

Acknowledged entries are trimmed (`XTRIM MINID`, by the sweeper), up to the oldest one
still pending: the stream holds the trips being decided, not every trip ever requested.

A trip is queued once: beside its entry, a marker (`rides:trip:<id>:queued`) is set by the
same script, so the request's own `XADD` and the sweeper's (`rides.dispatch.sweeper`) add
one entry between them, whichever runs first, however often.
"""

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

STREAM = "rides:trip-requests"
GROUP = "dispatchers"
# Longer than a trip can stay requested: by then it is decided, or the sweeper queues it
# again (a marker that outlived the entry it stood for would keep it from doing so).
QUEUED_MARKER_SECONDS = 3600

# A script runs whole: no other client sees the marker without the entry, or the reverse.
QUEUE_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
    return redis.call('XADD', KEYS[2], '*', 'trip_id', ARGV[1])
end
return false
"""


def _queued_key(trip_id: int) -> str:
    return f"rides:trip:{trip_id}:queued"


@dataclass(frozen=True)
class Entry:
    id: str
    trip_id: int


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entries(raw: list[tuple[bytes | str, dict[bytes | str, bytes | str]]]) -> list[Entry]:
    entries = []
    for entry_id, fields in raw:
        named = {_text(key): _text(value) for key, value in (fields or {}).items()}
        if "trip_id" in named:  # an entry trimmed from the stream comes back empty
            entries.append(Entry(_text(entry_id), int(named["trip_id"])))
    return entries


class TripRequests:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queue_once = redis.register_script(QUEUE_ONCE)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exists:
            if "BUSYGROUP" not in str(exists):
                raise

    async def publish(self, trip_id: int) -> bool:
        """Queues the trip unless it was queued already; whether this call queued it."""
        added = await self._queue_once(
            keys=[_queued_key(trip_id), STREAM], args=[trip_id, QUEUED_MARKER_SECONDS]
        )
        return added is not None

    async def was_queued(self, trip_id: int) -> bool:
        return bool(await self._redis.exists(_queued_key(trip_id)))

    async def read(self, consumer: str, *, count: int, block_ms: int | None) -> list[Entry]:
        """New entries for `consumer`; waits up to `block_ms` for one (None: not at all)."""
        streams = await self._redis.xreadgroup(
            GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms
        )
        return [entry for _, raw in streams for entry in _entries(raw)]

    async def claim_abandoned(self, consumer: str, *, idle_ms: int, count: int) -> list[Entry]:
        """Entries another consumer took and has not acknowledged for `idle_ms`."""
        _, raw, *_ = await self._redis.xautoclaim(
            STREAM, GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=count
        )
        return _entries(raw)

    async def claim_and_read(
        self, consumer: str, *, idle_ms: int, count: int, block_ms: int | None
    ) -> list[Entry]:
        """`claim_abandoned`, then `read`, in one round trip (a dispatcher does both at
        every step)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xautoclaim(
                STREAM, GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=count
            )
            pipe.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms)
            (_, claimed, *_), streams = await pipe.execute()
        return _entries(claimed) + [entry for _, raw in streams or [] for entry in _entries(raw)]

    async def ack(self, entry: Entry) -> None:
        await self._redis.xack(STREAM, GROUP, entry.id)

    async def trim(self) -> int:
        """Removes the entries the group is done with; returns how many. An acknowledged
        entry stays in the stream until trimmed, so without this the stream grows by one
        entry per trip forever. Kept: the entries pending (a dispatcher works on them, or
        died doing so and another will claim them) and those not delivered yet, so the
        cut is at the oldest pending entry, or else at the last delivered one.

        The last delivered id is read first: whatever a dispatcher is handed after that
        read lies above it, so it is kept even when the pending list, read next, was
        empty. Read the other way round, a delivery between the two reads would move the
        cut past entries that had just become pending."""
        groups = await self._redis.xinfo_groups(STREAM)
        ours = next((group for group in groups if _text(group["name"]) == GROUP), None)
        if ours is None:
            # Redis restarted without its data and a publish made the stream again: no
            # group, so nothing is known to be done with; a dispatcher recreates it.
            return 0
        keep_from = _text(ours["last-delivered-id"])
        pending = await self._redis.xpending(STREAM, GROUP)
        if pending["pending"]:
            keep_from = _text(pending["min"])
        trimmed: int = await self._redis.xtrim(STREAM, minid=keep_from, approximate=False)
        return trimmed
