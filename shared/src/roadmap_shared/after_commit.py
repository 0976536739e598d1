"""Work that must wait until the request's transaction has committed: invalidating a cache,
deleting a stored file, delivering queued emails.

Done before the commit, such work is wrong in both outcomes: a concurrent reader can load
the old row and cache it again before our write is visible, and a rollback leaves an email
sent for a change that never happened. So a service registers the work on its session:

    after_commit(session, cache.forget_article_lists)

and the request's session dependency (`roadmap_shared.database.get_session`) runs it once
the commit has succeeded, or drops it if the request rolls back. The test harness's session
does the same when a request's savepoint is released, so every test exercises it.

Effects run in the order they were registered, one at a time. An effect that fails is
logged and skipped: the write is committed and the client is told so; one broken effect
must not stop the others or turn a success into an error. Keep effects short: they run
before the response is sent. Slow work (sending mail) belongs in a background task that
the effect only starts.
"""

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)

Effect = Callable[[], Awaitable[None]]

# Where a session keeps its pending effects: `Session.info` is a dict that lives as long
# as the session and belongs to its owner, so the effects travel with the transaction.
_PENDING = "roadmap_shared.after_commit"


def after_commit(session: AsyncSession, effect: Effect) -> None:
    """Runs `effect()` once `session`'s transaction has committed; never if it rolls back.

    The same effect registered twice (two writes making one cache key stale) runs once."""
    pending: list[Effect] = session.info.setdefault(_PENDING, [])
    if effect not in pending:
        pending.append(effect)


def discard_pending_effects(session: AsyncSession) -> None:
    """Forgets what was registered: call when the transaction rolls back."""
    session.info.pop(_PENDING, None)


async def run_pending_effects(session: AsyncSession) -> None:
    """Runs (and forgets) what was registered: call once the transaction has committed."""
    pending: list[Effect] = session.info.pop(_PENDING, [])
    for effect in pending:
        try:
            await effect()
        except Exception:
            logger.exception("an after-commit effect failed; the commit stands")
