"""Request and response bodies of the article endpoints."""

from typing import Annotated

from pydantic import Field

from conduit.profiles.schemas import Profile
from conduit.schemas import (
    STORABLE_NOT_BLANK,
    TRIMMED,
    PartialUpdate,
    SpecModel,
    Timestamp,
)

# Blank text is refused (422 "can't be blank"); surrounding whitespace is dropped.
Title = Annotated[str, Field(min_length=1, max_length=200), TRIMMED, STORABLE_NOT_BLANK]
Description = Annotated[str, Field(min_length=1, max_length=1000), TRIMMED, STORABLE_NOT_BLANK]
Body = Annotated[str, Field(min_length=1, max_length=100_000), TRIMMED, STORABLE_NOT_BLANK]
TagName = Annotated[str, Field(min_length=1, max_length=40), TRIMMED, STORABLE_NOT_BLANK]
TagNames = Annotated[list[TagName], Field(max_length=10)]


class NewArticle(SpecModel):
    title: Title
    description: Description
    body: Body
    tag_list: TagNames = Field(default_factory=list)


class NewArticleRequest(SpecModel):
    article: NewArticle


class ArticleChanges(PartialUpdate):
    """Fields left out stay as they are. `tagList` is not in the spec's update body, but
    front ends send it from the same editor they create with, so it is honoured."""

    title: Title | None = None
    description: Description | None = None
    body: Body | None = None
    tag_list: TagNames | None = None


class UpdateArticleRequest(SpecModel):
    article: ArticleChanges


class ArticleSummary(SpecModel):
    """An article in a list or the feed: spec v2 leaves the body out, which a list never
    shows and which can be a hundred times larger than the rest."""

    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    favorited: bool
    favorites_count: int
    author: Profile


class Article(ArticleSummary):
    body: str


class ArticleResponse(SpecModel):
    article: Article


class ArticleList(SpecModel):
    articles: list[ArticleSummary]
    articles_count: int
