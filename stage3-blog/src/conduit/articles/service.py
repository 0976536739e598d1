"""The rules of articles: who may change what, slugs, and shaping responses."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.articles import repository, slugs
from conduit.articles.cache import ContentCache
from conduit.articles.repository import ArticleFilters, ArticleRow
from conduit.articles.schemas import (
    Article,
    ArticleChanges,
    NewArticle,
)
from conduit.constraints import violated_unique_constraint
from conduit.errors import invalid, not_found, not_owner, unauthorized
from conduit.models import Article as ArticleRecord
from conduit.models import User
from conduit.profiles.schemas import Profile
from conduit.tags.repository import set_article_tags
from roadmap_shared.database import utcnow

SLUG_CONSTRAINT = "uq_articles_slug"


class NoFreeSlug(RuntimeError):
    """Every candidate slug was taken: practically impossible, so a 500 is right."""


def _author(row: ArticleRow) -> Profile:
    return Profile(
        username=row.author_username,
        bio=row.author_bio,
        image=row.author_image,
        following=row.following,
    )


def to_schema(row: ArticleRow) -> Article:
    return Article(
        slug=row.slug,
        title=row.title,
        description=row.description,
        body=row.body,
        tag_list=row.tag_list,
        created_at=row.created_at,
        updated_at=row.updated_at,
        favorited=row.favorited,
        favorites_count=row.favorites_count,
        author=_author(row),
    )


async def list_articles(
    session: AsyncSession,
    filters: ArticleFilters,
    *,
    viewer_id: int | None,
    limit: int,
    offset: int,
) -> bytes:
    """The JSON of an `ArticleList`, written by PostgreSQL (see `repository`). `viewer_id`
    comes from a token (`TokenViewerId`): the same statement checks the account exists."""
    document = await repository.article_list(
        session, filters, viewer_id=viewer_id, limit=limit, offset=offset
    )
    if document is None:  # the account was deleted after the token was issued
        raise unauthorized("token", "is invalid or expired")
    return document


async def get_article(session: AsyncSession, slug: str, viewer_id: int | None) -> Article:
    row = await repository.get_row(session, slug, viewer_id=viewer_id)
    if row is None:
        raise not_found("article")
    return to_schema(row)


async def find(
    session: AsyncSession, slug: str, *, lock: repository.Lock | None = None
) -> ArticleRecord:
    """The article, or a 404. A request that goes on to write takes a `lock`."""
    article = await repository.get(session, slug, lock=lock)
    if article is None:
        raise not_found("article")
    return article


async def create(
    session: AsyncSession, cache: ContentCache, author: User, new: NewArticle
) -> Article:
    article = await _insert_with_free_slug(session, author, new)
    await set_article_tags(session, article.id, new.tag_list)
    cache.forget_articles_and_tags(session)
    return await get_article(session, article.slug, author.id)


async def update(
    session: AsyncSession, cache: ContentCache, slug: str, user: User, changes: ArticleChanges
) -> Article:
    article = await find(session, slug, lock=repository.Lock.UPDATE)
    if article.author_id != user.id:
        # Moderators may delete what they must not rewrite in someone else's name.
        raise not_owner("article")
    # The schema refuses null (every article has a title), so only `{}` is left to refuse.
    if not changes.model_fields_set:
        raise invalid("article", "must have at least one field to change")
    old_title = article.title
    if changes.title is not None:
        article.title = changes.title
    if changes.description is not None:
        article.description = changes.description
    if changes.body is not None:
        article.body = changes.body
    if changes.tag_list is not None:
        await set_article_tags(session, article.id, changes.tag_list)
    article.updated_at = utcnow()
    # The spec: "The slug also gets updated when the title is changed". A new title that
    # slugifies the same (a changed capital, say) keeps its slug.
    if slugs.slugify(article.title) != slugs.slugify(old_title):
        article.slug = await _move_to_free_slug(session, article)
    cache.forget_articles_and_tags(session)
    return await get_article(session, article.slug, user.id)


async def delete(session: AsyncSession, cache: ContentCache, slug: str, user: User) -> None:
    article = await find(session, slug, lock=repository.Lock.UPDATE)
    if article.author_id != user.id and not user.role.moderates:
        raise not_owner("article")
    await repository.delete_article(session, article.id)
    cache.forget_articles_and_tags(session)


async def favorite(session: AsyncSession, cache: ContentCache, slug: str, user: User) -> Article:
    article = await find(session, slug, lock=repository.Lock.KEY_SHARE)
    await repository.favorite(session, user.id, article.id)
    cache.forget_article_lists(session)  # favoritesCount is in cached lists
    return await get_article(session, slug, user.id)


async def unfavorite(session: AsyncSession, cache: ContentCache, slug: str, user: User) -> Article:
    article = await find(session, slug, lock=repository.Lock.KEY_SHARE)
    await repository.unfavorite(session, user.id, article.id)
    cache.forget_article_lists(session)
    return await get_article(session, slug, user.id)


async def _insert_with_free_slug(
    session: AsyncSession, author: User, new: NewArticle
) -> ArticleRecord:
    """Inserts the article under the first free slug. Each attempt runs in a SAVEPOINT:
    when the unique constraint refuses a slug, only that attempt is undone, and the
    request's transaction goes on to the next candidate."""
    for slug in slugs.candidates(new.title):
        article = ArticleRecord(
            slug=slug,
            title=new.title,
            description=new.description,
            body=new.body,
            author_id=author.id,
        )
        try:
            async with session.begin_nested():
                session.add(article)
        except IntegrityError as error:
            if violated_unique_constraint(error) != SLUG_CONSTRAINT:
                raise
            continue
        return article
    raise NoFreeSlug(new.title)


async def _move_to_free_slug(session: AsyncSession, article: ArticleRecord) -> str:
    # begin_nested() first flushes the other changes, outside the savepoint.
    for slug in slugs.candidates(article.title):
        try:
            async with session.begin_nested():
                await repository.set_slug(session, article.id, slug)
        except IntegrityError as error:
            if violated_unique_constraint(error) != SLUG_CONSTRAINT:
                raise
            continue
        return slug
    raise NoFreeSlug(article.title)
