from typing import Annotated

from pydantic import StringConstraints

from conduit.profiles.schemas import Profile
from conduit.schemas import STORABLE_NOT_BLANK, SpecModel, Timestamp

CommentBody = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
    STORABLE_NOT_BLANK,
]


class NewComment(SpecModel):
    body: CommentBody


class NewCommentRequest(SpecModel):
    comment: NewComment


class Comment(SpecModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp
    body: str
    author: Profile


class CommentResponse(SpecModel):
    comment: Comment


class CommentList(SpecModel):
    comments: list[Comment]
