"""Article endpoints: lists, the feed, one article, writing, favorites."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from conduit.articles import service
from conduit.articles.repository import ArticleFilters
from conduit.articles.schemas import (
    ArticleList,
    ArticleResponse,
    NewArticleRequest,
    UpdateArticleRequest,
)
from conduit.dependencies import CacheDep, CurrentUser, SessionDep, Viewer, Writer
from conduit.paging import PagingDep

router = APIRouter(prefix="/articles", tags=["Articles"])


@router.get("", summary="List articles, most recent first", response_model=ArticleList)
async def list_articles(
    *,
    session: SessionDep,
    viewer: Viewer,
    page: PagingDep,
    cache: CacheDep,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    author: Annotated[str | None, Query(max_length=40)] = None,
    favorited: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Full-text search in titles and bodies")
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
        articles = await service.list_articles(
            session, filters, viewer=viewer, limit=page.limit, offset=page.offset
        )
        return articles.model_dump_json(by_alias=True).encode()

    if viewer is not None:  # personal flags: never cached
        return Response(await load(), media_type="application/json")
    return Response(await cache.article_list(filters, page, load), media_type="application/json")


@router.get("/feed", summary="Articles by followed authors, most recent first")
async def feed(session: SessionDep, user: CurrentUser, page: PagingDep) -> ArticleList:
    return await service.list_articles(
        session,
        ArticleFilters(followed_by=user.id),
        viewer=user,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{slug}", summary="Get an article")
async def get_article(slug: str, session: SessionDep, viewer: Viewer) -> ArticleResponse:
    return ArticleResponse(article=await service.get_article(session, slug, viewer))


@router.post("", status_code=201, summary="Create an article")
async def create_article(
    *,
    body: NewArticleRequest,
    session: SessionDep,
    user: Writer,
    cache: CacheDep,
) -> ArticleResponse:
    article = await service.create(session, cache, user, body.article)
    return ArticleResponse(article=article)


@router.put("/{slug}", summary="Update an article (its author only)")
async def update_article(
    *,
    slug: str,
    body: UpdateArticleRequest,
    session: SessionDep,
    user: Writer,
    cache: CacheDep,
) -> ArticleResponse:
    article = await service.update(session, cache, slug, user, body.article)
    return ArticleResponse(article=article)


# The spec's OpenAPI document: 200 with no content.
@router.delete(
    "/{slug}",
    response_class=Response,
    summary="Delete an article (its author, a moderator or an admin)",
)
async def delete_article(*, slug: str, session: SessionDep, user: Writer, cache: CacheDep) -> None:
    await service.delete(session, cache, slug, user)


@router.post("/{slug}/favorite", summary="Favorite an article", tags=["Favorites"])
async def favorite(
    *, slug: str, session: SessionDep, user: Writer, cache: CacheDep
) -> ArticleResponse:
    article = await service.favorite(session, cache, slug, user)
    return ArticleResponse(article=article)


@router.delete("/{slug}/favorite", summary="Unfavorite an article", tags=["Favorites"])
async def unfavorite(
    *, slug: str, session: SessionDep, user: Writer, cache: CacheDep
) -> ArticleResponse:
    article = await service.unfavorite(session, cache, slug, user)
    return ArticleResponse(article=article)
