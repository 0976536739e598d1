from typing import Annotated

from pydantic import Field

from conduit.profiles.schemas import Profile
from conduit.schemas import STORABLE_NOT_BLANK, TRIMMED, SpecModel, Timestamp

CommentBody = Annotated[str, Field(min_length=1, max_length=10_000), TRIMMED, STORABLE_NOT_BLANK]


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
