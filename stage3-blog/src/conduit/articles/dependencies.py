"""Guards for routes under `/articles/{slug}`: they load the article (or answer the spec's
404) before the handler runs, so handlers receive an article, never a slug to look up."""

from typing import Annotated

from fastapi import Depends

from conduit.articles import service
from conduit.articles.repository import Lock
from conduit.dependencies import SessionDep
from conduit.models import Article
from conduit.schemas import Text


async def valid_article_slug(slug: Text, session: SessionDep) -> Article:
    return await service.find(session, slug)


async def article_kept_for_writing(slug: Text, session: SessionDep) -> Article:
    """The article, locked until the request commits so that it cannot be deleted under
    a write that refers to it (`FOR KEY SHARE`: edits to it still proceed)."""
    return await service.find(session, slug, lock=Lock.KEY_SHARE)


ValidArticle = Annotated[Article, Depends(valid_article_slug)]
ArticleKeptForWriting = Annotated[Article, Depends(article_kept_for_writing)]
