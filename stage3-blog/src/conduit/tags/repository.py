"""SQL for tags and the article-tag association."""

from collections.abc import Sequence

from sqlalchemy import Integer, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.models import Tag, article_tags
from roadmap_shared.database import core_connection


async def set_article_tags(session: AsyncSession, article_id: int, names: Sequence[str]) -> None:
    """Makes `names` the article's tags, creating the tags that do not exist yet."""
    await session.execute(delete(article_tags).where(article_tags.c.article_id == article_id))
    if not names:
        return
    # Sorted, so two requests creating the same new tags lock them in the same order and
    # cannot deadlock. ON CONFLICT DO NOTHING waits for a concurrent insert of the same
    # name to commit, after which the SELECT below sees its row.
    ordered = sorted(set(names))
    await session.execute(
        pg_insert(Tag).values([{"name": name} for name in ordered]).on_conflict_do_nothing()
    )
    tag_ids = (await session.scalars(select(Tag.id).where(Tag.name.in_(ordered)))).all()
    await session.execute(
        insert(article_tags), [{"article_id": article_id, "tag_id": tag_id} for tag_id in tag_ids]
    )


_uses = func.count(article_tags.c.article_id)
# Built once, run through Core: see `articles/repository.py`.
POPULAR = (
    select(Tag.name)
    .join(article_tags, article_tags.c.tag_id == Tag.id)
    .group_by(Tag.id)
    .order_by(_uses.desc(), Tag.name)
    .limit(bindparam("limit", type_=Integer))
)


async def popular(session: AsyncSession, limit: int) -> list[str]:
    """The tags in use, most used first (ties alphabetical), at most `limit`."""
    connection = await core_connection(session)
    return list((await connection.scalars(POPULAR, {"limit": limit})).all())
