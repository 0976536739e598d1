"""Comments on an article: list, add, delete."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from conduit.comments import service
from conduit.comments.schemas import CommentList, CommentResponse, NewCommentRequest
from conduit.dependencies import SessionDep, Viewer, Writer

router = APIRouter(prefix="/articles/{slug}/comments", tags=["Comments"])

MAX_COMMENTS = 100
MAX_OFFSET = 1_000_000
# Comment ids are PostgreSQL integers: a larger id cannot exist, and must not reach the
# database, which would refuse it with an error (a 500) instead of a 404.
MAX_ID = 2**31 - 1


@router.get("", summary="Comments on an article, newest first")
async def list_comments(
    *,
    slug: str,
    session: SessionDep,
    viewer: Viewer,
    # Not in the spec, which returns every comment; a list must have a bound. Clients
    # that send neither get the newest 100.
    limit: Annotated[int, Query(ge=1, le=MAX_COMMENTS)] = MAX_COMMENTS,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CommentList:
    comments = await service.list_comments(session, slug, viewer, limit=limit, offset=offset)
    return CommentList(comments=comments)


@router.post("", status_code=201, summary="Comment on an article")
async def add_comment(
    *, slug: str, body: NewCommentRequest, session: SessionDep, user: Writer
) -> CommentResponse:
    return CommentResponse(comment=await service.add(session, slug, user, body.comment))


@router.delete(
    "/{comment_id}",
    response_class=Response,
    summary="Delete a comment (its author, a moderator or an admin)",
)
async def delete_comment(
    slug: str,
    comment_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    user: Writer,
) -> None:
    await service.delete(session, slug, comment_id, user)
