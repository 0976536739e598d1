"""SQL for articles and favorites.

Every article response needs the article, its author, its tags, its favorites count,
whether the viewer favorited it and whether the viewer follows its author.
`_article_columns()` names all of that for one statement, whatever the page size: the
articles joined to their authors, and the tags (an array), the count and the two flags as
correlated subqueries.

Reads select columns, not ORM objects, with statements built once (see `_list_statement`)
and run on the session's connection (`core_connection`), skipping the ORM's
per-statement work. Loading `Article` and `User` objects would make the ORM build, track
and link two objects per row, which a response that is thrown away after serialising
never uses; on a page of 20 that was most of the request's CPU time. Writes still load
`Article` objects (`get`), where tracking changes is the point.

One article comes back as a row (`ArticleRow`) for the response models. A list goes one
step further: PostgreSQL writes the whole `ArticleList` document, the page's articles
(`json_agg` of `json_build_object`) and the count of all matches, as JSON text in one
statement, which the route sends as it is. A round trip costs the app more CPU than
PostgreSQL takes to answer, and so did building and serialising 20 response models: one
statement for any page, which the N+1 tests check.

A page is chosen first, by id, and only then joined to what it shows (a "deferred join"):
PostgreSQL computes a SELECT list for every row it reads, including the rows OFFSET skips,
so `?offset=5000` would otherwise count favorites for 5,020 articles to show 20.
"""

from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Label,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    String,
    Text,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conduit.models import Article, Favorite, Follow, Tag, User, article_tags
from conduit.profiles.repository import follows
from roadmap_shared.database import core_connection

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
    body: str
    tag_list: list[str]
    created_at: datetime
    updated_at: datetime
    favorites_count: int
    favorited: bool
    author_username: str
    author_bio: str | None
    author_image: str | None
    following: bool


# Statements are built once per shape (which filters a request sets, and whether someone is
# signed in: at most 2 x 2**5 of them, a handful in practice) and cached; each request only
# binds its values. Building a statement this size from Python objects, and SQLAlchemy
# working out its cache key, cost more CPU than PostgreSQL took to answer it.
VIEWER_ID = bindparam("viewer_id", type_=Integer)
LIMIT = bindparam("limit", type_=Integer)
OFFSET = bindparam("offset", type_=Integer)
SLUG = bindparam("slug", type_=String)
SEARCH = bindparam("search", type_=String)
SPEC_TIMESTAMP_FORMAT: ColumnElement[str] = literal_column('\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\'')
FILTER_NAMES = tuple(field.name for field in fields(ArticleFilters))


def _shape(filters: ArticleFilters) -> tuple[str, ...]:
    """The names of the filters set: what decides the statement, apart from the values."""
    return tuple(name for name in FILTER_NAMES if getattr(filters, name) is not None)


def _values(filters: ArticleFilters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in _shape(filters)}


def _search_query() -> ColumnElement[Any]:
    # websearch_to_tsquery accepts what people type into search boxes ("dragon -movie",
    # quoted phrases) and never fails to parse, unlike to_tsquery.
    return func.websearch_to_tsquery(SEARCH_CONFIGURATION, SEARCH)


def _conditions(shape: tuple[str, ...]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if "tag" in shape:
        tagged = (
            select(article_tags.c.article_id)
            .join(Tag, Tag.id == article_tags.c.tag_id)
            .where(Tag.name == bindparam("tag", type_=String))
        )
        conditions.append(Article.id.in_(tagged))
    if "author" in shape:
        by_author = (
            select(User.id)
            .where(User.username == bindparam("author", type_=String))
            .scalar_subquery()
        )
        conditions.append(Article.author_id == by_author)
    if "favorited_by" in shape:
        favorited = (
            select(Favorite.article_id)
            .join(User, User.id == Favorite.user_id)
            .where(User.username == bindparam("favorited_by", type_=String))
        )
        conditions.append(Article.id.in_(favorited))
    if "search" in shape:
        conditions.append(Article.search_vector.op("@@")(_search_query()))
    if "followed_by" in shape:
        followed = select(Follow.followee_id).where(
            Follow.follower_id == bindparam("followed_by", type_=Integer)
        )
        conditions.append(Article.author_id.in_(followed))
    return conditions


def _article_columns(*, signed_in: bool) -> dict[str, SQLColumnExpression[Any]]:
    """What a response shows of an article (but its body), by its JSON name, to select from
    `Article` joined to its author `User`."""
    viewer_id = VIEWER_ID if signed_in else None
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
    return {
        "slug": Article.slug,
        "title": Article.title,
        "description": Article.description,
        "tagList": func.array(tag_names, type_=ARRAY(String)),
        "createdAt": Article.created_at,
        "updatedAt": Article.updated_at,
        "favorited": favorited,
        "favoritesCount": favorites_count,
        "username": User.username,
        "bio": User.bio,
        "image": User.image,
        "following": follows(viewer_id, Article.author_id),
    }


def _articles(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """One article per row, in `ArticleRow`'s order."""
    columns = _article_columns(signed_in=signed_in)
    return select(
        columns["slug"],
        columns["title"],
        columns["description"],
        Article.body,
        columns["tagList"],
        columns["createdAt"],
        columns["updatedAt"],
        columns["favoritesCount"],
        columns["favorited"],
        columns["username"],
        columns["bio"],
        columns["image"],
        columns["following"],
    ).join(User, User.id == Article.author_id)


def _json_key(name: str) -> ColumnElement[str]:
    # Inline, not a bind parameter: PostgreSQL cannot infer the type of a parameter passed
    # to json_build_object(VARIADIC "any"). The names are this module's constants.
    return literal_column(f"'{name}'")


def _json_object(fields: dict[str, SQLColumnExpression[Any]]) -> ColumnElement[Any]:
    return func.json_build_object(
        *(part for name, value in fields.items() for part in (_json_key(name), value))
    )


def _spec_timestamp(moment: SQLColumnExpression[datetime]) -> ColumnElement[str]:
    """`2016-02-18T03:22:56.637Z`, as `conduit.schemas.Timestamp` writes it: UTC, the
    milliseconds truncated (both to_char's MS and Python's isoformat cut, not round)."""
    return func.to_char(func.timezone(literal_column("'UTC'"), moment), SPEC_TIMESTAMP_FORMAT)


def _summary_json(*, signed_in: bool) -> ColumnElement[Any]:
    """An `ArticleSummary` as PostgreSQL writes it: the same names, order and formats."""
    columns = _article_columns(signed_in=signed_in)
    author = ("username", "bio", "image", "following")
    return _json_object(
        {
            **{name: value for name, value in columns.items() if name not in author},
            "createdAt": _spec_timestamp(columns["createdAt"]),
            "updatedAt": _spec_timestamp(columns["updatedAt"]),
            "author": _json_object({name: columns[name] for name in author}),
        }
    )


@cache
def _count_statement(shape: tuple[str, ...]) -> Select[int]:
    return select(func.count()).select_from(Article).where(*_conditions(shape))


@cache
def _list_statement(shape: tuple[str, ...], *, signed_in: bool) -> Select[str | None]:
    """The whole `ArticleList` document, as JSON text written by PostgreSQL; signed in,
    NULL instead when the viewer's account no longer exists.

    Most recent first (best matches first when searching). The id breaks ties between
    equal timestamps, so pages never overlap or skip."""
    sort_keys: list[Label[Any]] = [
        Article.created_at.label("created_at"),
        Article.id.label("id"),
    ]
    if "search" in shape:
        rank = func.ts_rank(Article.search_vector, _search_query())
        sort_keys.insert(0, rank.label("rank"))
    chosen = (
        select(*sort_keys)
        .where(*_conditions(shape))
        .order_by(*(key.desc() for key in sort_keys))
        .limit(LIMIT)
        .offset(OFFSET)
        .subquery("page")
    )
    # json_agg keeps the order it is given, so it is given the page's.
    articles = func.json_agg(
        aggregate_order_by(
            _summary_json(signed_in=signed_in), *(chosen.c[key.name].desc() for key in sort_keys)
        )
    )
    document = _json_object(
        {
            # An empty page aggregates to NULL, not to an empty array.
            "articles": func.coalesce(articles, literal_column("'[]'::json")),
            # Not correlated: it counts every match, not the rows of the page.
            "articlesCount": _count_statement(shape).scalar_subquery().correlate(None),
        }
    )
    if signed_in:
        # NULL when the viewer's account is gone (deleted since their token was issued):
        # checking here saves the request a round trip of its own (see `TokenViewerId`).
        viewer = aliased(User, name="viewer")
        viewer_exists = select(viewer.id).where(viewer.id == VIEWER_ID).exists().correlate(None)
        document = case((viewer_exists, document))
    return (
        select(cast(document, Text))
        .select_from(Article)
        .join(User, User.id == Article.author_id)
        .join(chosen, chosen.c.id == Article.id)
    )


ONE_ARTICLE = {
    signed_in: _articles(signed_in=signed_in).where(Article.slug == SLUG)
    for signed_in in (False, True)
}


async def article_list(
    session: AsyncSession,
    filters: ArticleFilters,
    *,
    viewer_id: int | None,
    limit: int,
    offset: int,
) -> bytes | None:
    """A page of articles and the count of all that match, as the JSON of an `ArticleList`,
    in one statement: see the module's docstring. None if `viewer_id` names no account."""
    statement = _list_statement(_shape(filters), signed_in=viewer_id is not None)
    values = {**_values(filters), "viewer_id": viewer_id, "limit": limit, "offset": offset}
    connection = await core_connection(session)
    document: str | None = (await connection.execute(statement, values)).scalar_one()
    return document.encode() if document is not None else None


async def get_row(session: AsyncSession, slug: str, *, viewer_id: int | None) -> ArticleRow | None:
    """One article as a response shows it, with its body. After a write in the same
    session, `core_connection` flushes first, so the row shows the change."""
    connection = await core_connection(session)
    statement = ONE_ARTICLE[viewer_id is not None]
    result = await connection.execute(statement, {"slug": slug, "viewer_id": viewer_id})
    row = result.first()
    return ArticleRow(*row) if row is not None else None


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
