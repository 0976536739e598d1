from typing import Annotated

from fastapi import APIRouter, Query, status

from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath
from roadmap_shared.pagination import CursorPage
from social.dependencies import CurrentUser, SessionDep, SettingsDep
from social.paging import CursorQuery
from social.posts import service
from social.posts.schemas import CommentCreate, CommentPublic, PostCreate, PostPublic

router = APIRouter(prefix="/api/posts", tags=["posts"], dependencies=[NO_STORE])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Write a post; it reaches followers' home timelines shortly after",
    responses=problem_responses(401),
)
async def create_post(
    body: PostCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> PostPublic:
    return PostPublic.of(await service.create(session, settings, user, body.body))


@router.get("/{post_id}", summary="One post", responses=problem_responses(401, 404))
async def read_post(post_id: BigIdPath, user: CurrentUser, session: SessionDep) -> PostPublic:
    return PostPublic.of(await service.readable(session, user, post_id))


@router.delete(
    "/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete one of your posts",
    responses=problem_responses(401, 403, 404),
)
async def delete_post(post_id: BigIdPath, user: CurrentUser, session: SessionDep) -> None:
    await service.delete(session, user, post_id)


@router.put(
    "/{post_id}/like",
    summary="Like a post (liking it again changes nothing)",
    responses=problem_responses(401, 404),
)
async def like_post(post_id: BigIdPath, user: CurrentUser, session: SessionDep) -> PostPublic:
    return PostPublic.of(await service.like(session, user, post_id))


@router.delete(
    "/{post_id}/like",
    summary="Take a like back (if there was none, nothing changes)",
    responses=problem_responses(401, 404),
)
async def unlike_post(post_id: BigIdPath, user: CurrentUser, session: SessionDep) -> PostPublic:
    return PostPublic.of(await service.unlike(session, user, post_id))


@router.post(
    "/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a post",
    responses=problem_responses(401, 404),
)
async def comment_post(
    post_id: BigIdPath, body: CommentCreate, user: CurrentUser, session: SessionDep
) -> CommentPublic:
    return await service.comment(session, user, post_id, body.body)


@router.get(
    "/{post_id}/comments",
    summary="A post's comments, oldest first, a page at a time",
    responses=problem_responses(400, 401, 404),
)
async def list_comments(
    post_id: BigIdPath,
    query: Annotated[CursorQuery, Query()],
    user: CurrentUser,
    session: SessionDep,
) -> CursorPage[CommentPublic]:
    return await service.comments(session, user, post_id, query)
