"""The events this stage publishes. Routing key = event type; ids are integers;
`occurred_at` is ISO-8601 in UTC. Change a payload only by adding a field."""

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import utcnow
from roadmap_shared.messaging import add_event
from social.models import OutboxEvent, Post

POST_CREATED = "post.created"


def post_created(session: AsyncSession, post: Post) -> None:
    """In the post's transaction: no post without its event, no event without its post."""
    add_event(
        session,
        OutboxEvent,
        POST_CREATED,
        {"post_id": post.id, "author_id": post.author_id, "occurred_at": utcnow().isoformat()},
    )
