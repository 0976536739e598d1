"""Home timelines in Redis: one sorted set per user, `social:timeline:<user id>`.

Each member is `<post id>:<author id>` scored by the post id (ids grow with time, so the
score orders newest last and is the cursor too); the author travels in the member so that
an unfollow or a block can remove an author's posts without asking PostgreSQL.

One more member, `-`, below every post, says what the set holds: scored 0, every post the
timeline should hold ("empty" and "expired" must differ, or a user following nobody would
be rebuilt on every read); scored -1, only the newest `length`: older ones were trimmed,
and a reader who pages past the last one reads on from PostgreSQL.

Only timelines that exist are written to. One that expired (nobody read it for
`timeline_ttl_seconds`) or was never built costs nothing at fan-out; the next read
rebuilds it from PostgreSQL. A read renews the expiry, a fan-out does not, so the
timelines kept are those of the users who come back.
"""

from dataclasses import dataclass

from redis.asyncio import Redis

PREFIX = "social:timeline"
# Below every post id: rank 0 of an existing timeline, never read as a post. Its score
# says whether posts older than the oldest member were trimmed.
MARKER = "-"
WHOLE, TRIMMED = 0, -1
# A rebuild says it is under way: fan-outs meanwhile still write, so a post published
# between the rebuild's query and its write is not lost. Longer than any rebuild takes.
BUILDING_SECONDS = 30
# Timelines written per round trip to Redis during a fan-out.
PUSH_BATCH = 500

# KEYS: timeline, building marker. ARGV: member, score, length, ttl seconds.
# The newest `length` posts are kept (and the marker at rank 0): ZREMRANGEBYRANK from
# rank 1 up to rank -(length + 1), the one below them. A trim marks the timeline trimmed.
_PUSH = """
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('ZREMRANGEBYRANK', KEYS[1], 1, -(tonumber(ARGV[3]) + 1)) > 0 then
  redis.call('ZADD', KEYS[1], '-1', '-')
end
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return 1
"""

# KEYS: timeline. ARGV: ":<author id>", the suffix of that author's members. At most
# `length` members, so one pass is bounded.
_REMOVE_AUTHOR = """
local removed = 0
local suffix = ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -string.len(suffix)) == suffix then
    redis.call('ZREM', KEYS[1], member)
    removed = removed + 1
  end
end
return removed
"""


@dataclass(frozen=True)
class Entry:
    post_id: int
    author_id: int


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    # Posts older than these were trimmed from the timeline: the rest is in PostgreSQL.
    trimmed: bool


def _member(entry: Entry) -> str:
    return f"{entry.post_id}:{entry.author_id}"


def _entry(member: bytes | str) -> Entry:
    text = member.decode() if isinstance(member, bytes) else member
    post_id, author_id = text.split(":")
    return Entry(int(post_id), int(author_id))


class TimelineStore:
    def __init__(self, redis: Redis, *, length: int, ttl_seconds: int) -> None:
        self.redis = redis
        self.length = length
        self.ttl_seconds = ttl_seconds
        self._push = redis.register_script(_PUSH)
        self._remove_author = redis.register_script(_REMOVE_AUTHOR)

    @staticmethod
    def key(user_id: int) -> str:
        return f"{PREFIX}:{user_id}"

    @staticmethod
    def building_key(user_id: int) -> str:
        return f"{PREFIX}:{user_id}:building"

    async def push(self, user_ids: list[int], entry: Entry) -> int:
        """Adds `entry` to the timelines of `user_ids` that exist (one round trip per
        batch); how many it was added to. Adding it twice leaves one member: a set."""
        added = 0
        for start in range(0, len(user_ids), PUSH_BATCH):
            async with self.redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids[start : start + PUSH_BATCH]:
                    await self._push(
                        keys=[self.key(user_id), self.building_key(user_id)],
                        args=[_member(entry), entry.post_id, self.length, self.ttl_seconds],
                        client=pipe,
                    )
                added += sum(await pipe.execute())
        return added

    async def page(self, user_id: int, *, before: int | None, count: int) -> Page | None:
        """Up to `count` entries, newest first, older than post `before`; None if the
        timeline does not exist. Renews its expiry: its owner is reading."""
        key = self.key(user_id)
        upper = f"({before}" if before is not None else "+inf"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zscore(key, MARKER)
            # "(0": strictly above the marker.
            pipe.zrevrangebyscore(key, upper, "(0", start=0, num=count)
            pipe.expire(key, self.ttl_seconds)
            marker, members, _ = await pipe.execute()
        if marker is None:
            return None
        return Page([_entry(member) for member in members], trimmed=marker == TRIMMED)

    async def start_rebuild(self, user_id: int) -> None:
        await self.redis.set(self.building_key(user_id), "1", ex=BUILDING_SECONDS)

    async def finish_rebuild(self, user_id: int, entries: list[Entry]) -> None:
        """Writes the rebuilt timeline beside what fan-outs added meanwhile (a union:
        both are newest posts of the same authors), then trims and sets its expiry."""
        key = self.key(user_id)
        # A rebuild reads at most `length` posts: as many means there may be older ones.
        members = {MARKER: TRIMMED if len(entries) >= self.length else WHOLE}
        members.update({_member(entry): entry.post_id for entry in entries})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, members)
            pipe.zremrangebyrank(key, 1, -(self.length + 1))
            pipe.expire(key, self.ttl_seconds)
            pipe.delete(self.building_key(user_id))
            await pipe.execute()

    async def remove_author(self, user_id: int, author_id: int) -> int:
        """Removes `author_id`'s posts from `user_id`'s timeline; how many there were."""
        removed: int = await self._remove_author(keys=[self.key(user_id)], args=[f":{author_id}"])
        return removed

    async def drop(self, user_id: int) -> None:
        """Forgets the timeline: the next read rebuilds it from PostgreSQL."""
        await self.redis.delete(self.key(user_id))
