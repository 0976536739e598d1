"""Article endpoints: lists, the feed, one article, writing, favorites."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.convertors import Convertor, register_url_convertor

from conduit.articles import service
from conduit.articles.repository import ArticleFilters
from conduit.articles.schemas import (
    ArticleList,
    ArticleResponse,
    NewArticleRequest,
    UpdateArticleRequest,
)
from conduit.dependencies import (
    TOKEN_OPTIONAL,
    ContentCacheDep,
    SessionDep,
    TokenReaderId,
    TokenViewerId,
    ViewerId,
    Writer,
)
from conduit.errors import spec_errors
from conduit.paging import PagingDep
from conduit.schemas import Text

router = APIRouter(prefix="/articles", tags=["Articles"])


class ArticleSlug(Convertor[str]):
    """`/articles/{slug:slug}`: any path segment but `feed`. Without it, `PUT` and `DELETE`
    on `/articles/feed` would reach the article routes (as the slug "feed"), and `Allow`
    would have to list methods the document does not give that path. No slug is `feed`
    (slugs.RESERVED)."""

    regex = "(?!feed$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("slug", ArticleSlug())


@router.get(
    "",
    summary="List articles, most recent first",
    response_model=ArticleList,
    openapi_extra=TOKEN_OPTIONAL,
)
async def list_articles(
    *,
    session: SessionDep,
    viewer_id: TokenViewerId,
    page: PagingDep,
    cache: ContentCacheDep,
    tag: Annotated[Text | None, Query(max_length=40)] = None,
    author: Annotated[Text | None, Query(max_length=40)] = None,
    favorited: Annotated[Text | None, Query(max_length=40)] = None,
    q: Annotated[
        Text | None, Query(max_length=200, description="Full-text search in titles and bodies")
    ] = None,
) -> Response:
    # An empty parameter (`?tag=`) filters nothing, as if it were absent.
    filters = ArticleFilters(
        tag=tag or None,
        author=author or None,
        favorited_by=favorited or None,
        search=(q or "").strip() or None,
    )

    async def load() -> bytes:
        return await service.list_articles(
            session, filters, viewer_id=viewer_id, limit=page.limit, offset=page.offset
        )

    if viewer_id is not None:  # personal flags: never cached
        return Response(await load(), media_type="application/json")
    return Response(await cache.article_list(filters, page, load), media_type="application/json")


@router.get(
    "/feed",
    summary="Articles by followed authors, most recent first",
    response_model=ArticleList,
)
async def feed(session: SessionDep, reader_id: TokenReaderId, page: PagingDep) -> Response:
    articles = await service.list_articles(
        session,
        ArticleFilters(followed_by=reader_id),
        viewer_id=reader_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Response(articles, media_type="application/json")


@router.get(
    "/{slug:slug}",
    summary="Get an article",
    responses=spec_errors(404),
    openapi_extra=TOKEN_OPTIONAL,
)
async def get_article(slug: Text, session: SessionDep, viewer_id: ViewerId) -> ArticleResponse:
    return ArticleResponse(article=await service.get_article(session, slug, viewer_id))


@router.post("", status_code=201, summary="Create an article", responses=spec_errors(403))
async def create_article(
    *,
    body: NewArticleRequest,
    session: SessionDep,
    user: Writer,
    cache: ContentCacheDep,
) -> ArticleResponse:
    article = await service.create(session, cache, user, body.article)
    return ArticleResponse(article=article)


@router.put(
    "/{slug:slug}", summary="Update an article (its author only)", responses=spec_errors(403, 404)
)
async def update_article(
    *,
    slug: Text,
    body: UpdateArticleRequest,
    session: SessionDep,
    user: Writer,
    cache: ContentCacheDep,
) -> ArticleResponse:
    article = await service.update(session, cache, slug, user, body.article)
    return ArticleResponse(article=article)


# Spec v2: 204 and no body (v1 said 200; clients of either only check for success).
@router.delete(
    "/{slug:slug}",
    status_code=204,
    response_class=Response,
    summary="Delete an article (its author, a moderator or an admin)",
    responses=spec_errors(403, 404),
)
async def delete_article(
    *, slug: Text, session: SessionDep, user: Writer, cache: ContentCacheDep
) -> None:
    await service.delete(session, cache, slug, user)


@router.post(
    "/{slug}/favorite",
    summary="Favorite an article",
    tags=["Favorites"],
    responses=spec_errors(403, 404),
)
async def favorite(
    *, slug: Text, session: SessionDep, user: Writer, cache: ContentCacheDep
) -> ArticleResponse:
    article = await service.favorite(session, cache, slug, user)
    return ArticleResponse(article=article)


@router.delete(
    "/{slug}/favorite",
    summary="Unfavorite an article",
    tags=["Favorites"],
    responses=spec_errors(403, 404),
)
async def unfavorite(
    *, slug: Text, session: SessionDep, user: Writer, cache: ContentCacheDep
) -> ArticleResponse:
    article = await service.unfavorite(session, cache, slug, user)
    return ArticleResponse(article=article)
