from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from roadmap_shared.fields import STORABLE_NOT_BLANK
from social.models.posts import COMMENT_MAX_LENGTH, POST_MAX_LENGTH
from social.posts.repository import PostView

# Stripped, and not blank: a post of spaces says nothing.
PostBody = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=POST_MAX_LENGTH),
    STORABLE_NOT_BLANK,
]
CommentBody = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=COMMENT_MAX_LENGTH),
    STORABLE_NOT_BLANK,
]


class PostCreate(BaseModel):
    body: PostBody


class CommentCreate(BaseModel):
    body: CommentBody


class Author(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str


class PostPublic(BaseModel):
    id: int
    body: str
    created_at: datetime
    author: Author
    like_count: int = Field(description="Likes by everyone")
    liked: bool = Field(description="Whether the caller liked it")

    @classmethod
    def of(cls, view: PostView) -> "PostPublic":
        return cls(
            id=view.post.id,
            body=view.post.body,
            created_at=view.post.created_at,
            author=Author.model_validate(view.author),
            like_count=view.post.like_count,
            liked=view.liked,
        )


class CommentPublic(BaseModel):
    id: int
    body: str
    created_at: datetime
    author: Author
