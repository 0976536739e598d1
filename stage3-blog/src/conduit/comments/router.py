"""Comments on an article: list, add, delete."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from conduit.articles.dependencies import ArticleKeptForWriting, ValidArticle
from conduit.comments import service
from conduit.comments.schemas import CommentList, CommentResponse, NewCommentRequest
from conduit.dependencies import TOKEN_OPTIONAL, SessionDep, ViewerId, Writer
from conduit.errors import spec_errors
from conduit.paging import Offset
from roadmap_shared.fields import IdPath

router = APIRouter(prefix="/articles/{slug}/comments", tags=["Comments"])

MAX_COMMENTS = 100


@router.get(
    "",
    summary="Comments on an article, newest first",
    responses=spec_errors(404),
    openapi_extra=TOKEN_OPTIONAL,
)
async def list_comments(
    *,
    article: ValidArticle,
    session: SessionDep,
    viewer_id: ViewerId,
    # Not in the spec, which returns every comment; a list must have a bound. Clients
    # that send neither get the newest 100.
    limit: Annotated[int, Query(ge=1, le=MAX_COMMENTS)] = MAX_COMMENTS,
    offset: Offset = 0,
) -> CommentList:
    comments = await service.list_comments(session, article, viewer_id, limit=limit, offset=offset)
    return CommentList(comments=comments)


# Spec v2: 201, like every other creation (v1 said 200).
@router.post("", status_code=201, summary="Comment on an article", responses=spec_errors(403, 404))
async def add_comment(
    *, article: ArticleKeptForWriting, body: NewCommentRequest, session: SessionDep, user: Writer
) -> CommentResponse:
    return CommentResponse(comment=await service.add(session, article, user, body.comment))


@router.delete(
    "/{comment_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a comment (its author, a moderator or an admin)",
    responses=spec_errors(403, 404),
)
async def delete_comment(
    article: ValidArticle,
    # An `integer` column's range: a larger id must be a 422, not a database error (500).
    comment_id: IdPath,
    session: SessionDep,
    user: Writer,
) -> None:
    await service.delete(session, article, comment_id, user)
