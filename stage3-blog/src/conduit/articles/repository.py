"""SQL for articles and favorites.

Every article response needs the article, its author, its tags, its favorites count,
whether the viewer favorited it and whether the viewer follows its author. `_articles()`
selects all of that in one statement, whatever the page size: the articles joined to their
authors, and the tags (an array), the count and the two flags as correlated subqueries.
A list also counts its matches: two statements for any page, which the N+1 tests check.

Reads select columns, not ORM objects: the rows go straight into the response models
(`ArticleRow` -> `ArticleSummary`). Loading `Article` and `User` objects would make the ORM
build, track and link two objects per row, which a response that is thrown away after
serialising never uses; on a page of 20 that was most of the request's CPU time. Writes
still load `Article` objects (`get`), where tracking changes is the point.

A page is chosen first, by id, and only then joined to what it shows (a "deferred join"):
PostgreSQL computes a SELECT list for every row it reads, including the rows OFFSET skips,
so `?offset=5000` would otherwise count favorites for 5,020 articles to show 20.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Label,
    ScalarSelect,
    Select,
    String,
    delete,
    exists,
    false,
    func,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.models import Article, Favorite, Follow, Tag, User, article_tags
from conduit.profiles.repository import follows

SEARCH_CONFIGURATION = "english"  # must match the generated column's


@dataclass(frozen=True)
class ArticleFilters:
    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None
    search: str | None = None
    # The feed: articles by the authors this user follows.
    followed_by: int | None = None


class ArticleRow(NamedTuple):
    """One article as responses show it, in the order `_articles()` selects it."""

    slug: str
    title: str
    description: str
    body: str | None  # None in lists, which never show it
    tag_list: list[str]
    created_at: datetime
    updated_at: datetime
    favorites_count: int
    favorited: bool
    author_username: str
    author_bio: str | None
    author_image: str | None
    following: bool


def _search_query(text: str) -> ColumnElement[Any]:
    # websearch_to_tsquery accepts what people type into search boxes ("dragon -movie",
    # quoted phrases) and never fails to parse, unlike to_tsquery.
    return func.websearch_to_tsquery(SEARCH_CONFIGURATION, text)


def _conditions(filters: ArticleFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.tag is not None:
        tagged = (
            select(article_tags.c.article_id)
            .join(Tag, Tag.id == article_tags.c.tag_id)
            .where(Tag.name == filters.tag)
        )
        conditions.append(Article.id.in_(tagged))
    if filters.author is not None:
        by_author = select(User.id).where(User.username == filters.author).scalar_subquery()
        conditions.append(Article.author_id == by_author)
    if filters.favorited_by is not None:
        favorited = (
            select(Favorite.article_id)
            .join(User, User.id == Favorite.user_id)
            .where(User.username == filters.favorited_by)
        )
        conditions.append(Article.id.in_(favorited))
    if filters.search is not None:
        conditions.append(Article.search_vector.op("@@")(_search_query(filters.search)))
    if filters.followed_by is not None:
        followed = select(Follow.followee_id).where(Follow.follower_id == filters.followed_by)
        conditions.append(Article.author_id.in_(followed))
    return conditions


def _articles(viewer_id: int | None, *, with_body: bool) -> Select[*tuple[Any, ...]]:
    tag_names: ScalarSelect[list[str]] = (
        select(Tag.name)
        .join(article_tags, article_tags.c.tag_id == Tag.id)
        .where(article_tags.c.article_id == Article.id)
        .order_by(Tag.name)  # alphabetical, as the RealWorld test collection expects
        .correlate(Article)
        .scalar_subquery()
    )
    favorites_count: ScalarSelect[int] = (
        select(func.count())
        .where(Favorite.article_id == Article.id)
        .correlate(Article)
        .scalar_subquery()
    )
    favorited: ColumnElement[bool] = (
        exists().where(Favorite.article_id == Article.id, Favorite.user_id == viewer_id)
        if viewer_id is not None
        else false()
    )
    return select(
        Article.slug,
        Article.title,
        Article.description,
        Article.body if with_body else null(),
        func.array(tag_names, type_=ARRAY(String)),
        Article.created_at,
        Article.updated_at,
        favorites_count,
        favorited,
        User.username,
        User.bio,
        User.image,
        follows(viewer_id, Article.author_id),
    ).join(User, User.id == Article.author_id)


def _rows(result: Any) -> list[ArticleRow]:
    return [ArticleRow(*row) for row in result.all()]


async def count(session: AsyncSession, filters: ArticleFilters) -> int:
    query = select(func.count()).select_from(Article).where(*_conditions(filters))
    return int(await session.scalar(query) or 0)


async def page(
    session: AsyncSession,
    filters: ArticleFilters,
    *,
    viewer_id: int | None,
    limit: int,
    offset: int,
) -> list[ArticleRow]:
    """One page, most recent first (best matches first when searching). The id breaks
    ties between equal timestamps, so pages never overlap or skip."""
    sort_keys: list[Label[Any]] = [
        Article.created_at.label("created_at"),
        Article.id.label("id"),
    ]
    if filters.search is not None:
        rank = func.ts_rank(Article.search_vector, _search_query(filters.search))
        sort_keys.insert(0, rank.label("rank"))
    chosen = (
        select(*sort_keys)
        .where(*_conditions(filters))
        .order_by(*(key.desc() for key in sort_keys))
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    query = (
        _articles(viewer_id, with_body=False)
        .join(chosen, chosen.c.id == Article.id)
        .order_by(*(chosen.c[key.name].desc() for key in sort_keys))
    )
    return _rows(await session.execute(query))


async def get_row(session: AsyncSession, slug: str, *, viewer_id: int | None) -> ArticleRow | None:
    """One article as a response shows it, with its body. After a write in the same
    session, the session flushes first, so the row shows the change."""
    query = _articles(viewer_id, with_body=True).where(Article.slug == slug)
    rows = _rows(await session.execute(query))
    return rows[0] if rows else None


class Lock(Enum):
    """Row locks for a request about to act on an article it has just read. Without one, a
    concurrent delete can commit in between, and the write then fails inside PostgreSQL (a
    foreign key violation, or an UPDATE of a row that is gone): a 500 instead of a 404.
    With one, the request waits for the delete and then finds nothing."""

    # "It must not disappear while I add to it" (a favorite, a comment). Shared with other
    # such requests and with edits; only a delete has to wait.
    KEY_SHARE = "key share"
    # "I am about to change or delete it." One at a time; favorites and comments go on.
    UPDATE = "update"


async def get(session: AsyncSession, slug: str, *, lock: Lock | None = None) -> Article | None:
    query = select(Article).where(Article.slug == slug)
    if lock is Lock.KEY_SHARE:
        query = query.with_for_update(read=True, key_share=True)  # FOR KEY SHARE
    elif lock is Lock.UPDATE:
        query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE
    return await session.scalar(query)


async def set_slug(session: AsyncSession, article_id: int, slug: str) -> None:
    # Not synchronised into the session: a refused slug must leave no half-changed object.
    await session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(slug=slug)
        .execution_options(synchronize_session=False)
    )


async def delete_article(session: AsyncSession, article_id: int) -> None:
    # Tags links, favorites and comments go with it (ON DELETE CASCADE).
    await session.execute(delete(Article).where(Article.id == article_id))


async def favorite(session: AsyncSession, user_id: int, article_id: int) -> None:
    await session.execute(
        insert(Favorite).values(user_id=user_id, article_id=article_id).on_conflict_do_nothing()
    )


async def unfavorite(session: AsyncSession, user_id: int, article_id: int) -> None:
    await session.execute(
        delete(Favorite).where(Favorite.user_id == user_id, Favorite.article_id == article_id)
    )
