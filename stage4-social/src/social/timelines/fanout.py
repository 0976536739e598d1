"""The fan-out consumer: on `post.created`, pushes the post into the home timelines of the
author and of everyone following the author at that moment. It runs in the worker
(`python -m social.worker`) on roadmap_shared.messaging's Consumer.

Idempotent twice over: the Consumer skips a message id it has handled (its
processed-messages row commits with the handler's transaction), and the push is a set
add, so a post pushed again, after the handler's commit failed, is still one entry.
The followers are read here, not carried in the event: an unfollow or a block committed
before this delivery (or a redelivery) is respected.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.messaging import Event, Handler, PoisonMessage, Subscription
from social.config import Settings
from social.models import Post
from social.posts.events import POST_CREATED
from social.timelines import repository
from social.timelines.store import Entry, TimelineStore


def subscription(settings: Settings) -> Subscription:
    return Subscription(
        name=settings.consumer_name,
        event_types=(POST_CREATED,),
        exchange=settings.events_exchange,
        retry_delays_seconds=tuple(settings.retry_delays_seconds),
        prefetch=settings.prefetch,
    )


class FanOut:
    def __init__(self, store: TimelineStore) -> None:
        self._store = store

    def handlers(self) -> dict[str, Handler]:
        return {POST_CREATED: self.on_post_created}

    async def on_post_created(self, session: AsyncSession, event: Event) -> None:
        post_id = event.payload.get("post_id")
        if not isinstance(post_id, int) or isinstance(post_id, bool):
            raise PoisonMessage("no integer post_id in the payload")
        post = await session.get(Post, post_id)
        if post is None or post.fan_out_on_read:
            return  # deleted before its fan-out, or merged at read time instead
        followers = await repository.follower_ids(session, post.author_id)
        await self._store.push([post.author_id, *followers], Entry(post.id, post.author_id))
