from typing import Annotated

from fastapi import APIRouter, Query, status

from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.pagination import CursorPage
from social.dependencies import CurrentUser, SessionDep, TimelineStoreDep
from social.graph import service
from social.graph.schemas import Profile, ProfileSummary, UsernamePath
from social.paging import CursorQuery

router = APIRouter(prefix="/api/profiles", tags=["profiles"], dependencies=[NO_STORE])

NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.get("/{username}", summary="A user's profile", responses=problem_responses(401, 404))
async def read_profile(username: UsernamePath, user: CurrentUser, session: SessionDep) -> Profile:
    return await service.profile(session, user, username)


@router.put(
    "/{username}/follow",
    summary="Follow a user (following again changes nothing)",
    responses=problem_responses(401, 403, 404, 422),
)
async def follow(
    username: UsernamePath, user: CurrentUser, session: SessionDep, store: TimelineStoreDep
) -> Profile:
    return await service.follow(session, store, user, username)


@router.delete(
    "/{username}/follow",
    summary="Stop following a user; their posts leave your home timeline",
    responses=problem_responses(401, 404, 422),
)
async def unfollow(
    username: UsernamePath, user: CurrentUser, session: SessionDep, store: TimelineStoreDep
) -> Profile:
    return await service.unfollow(session, store, user, username)


@router.put(
    "/{username}/block",
    status_code=NO_CONTENT,
    summary="Block a user: both follows end, and neither sees the other's posts",
    responses=problem_responses(401, 404, 422),
)
async def block(
    username: UsernamePath, user: CurrentUser, session: SessionDep, store: TimelineStoreDep
) -> None:
    await service.block(session, store, user, username)


@router.delete(
    "/{username}/block",
    status_code=NO_CONTENT,
    summary="Unblock a user",
    responses=problem_responses(401, 404, 422),
)
async def unblock(username: UsernamePath, user: CurrentUser, session: SessionDep) -> None:
    await service.unblock(session, user, username)


@router.put(
    "/{username}/mute",
    status_code=NO_CONTENT,
    summary="Mute a user: their posts leave your home timeline, nothing else changes",
    responses=problem_responses(401, 404, 422),
)
async def mute(username: UsernamePath, user: CurrentUser, session: SessionDep) -> None:
    await service.mute(session, user, username)


@router.delete(
    "/{username}/mute",
    status_code=NO_CONTENT,
    summary="Unmute a user",
    responses=problem_responses(401, 404, 422),
)
async def unmute(username: UsernamePath, user: CurrentUser, session: SessionDep) -> None:
    await service.unmute(session, user, username)


@router.get(
    "/{username}/followers",
    summary="Who follows a user, newest first, a page at a time",
    responses=problem_responses(400, 401, 404),
)
async def followers(
    username: UsernamePath,
    query: Annotated[CursorQuery, Query()],
    user: CurrentUser,
    session: SessionDep,
) -> CursorPage[ProfileSummary]:
    return await service.followers(session, user, username, query)


@router.get(
    "/{username}/following",
    summary="Whom a user follows, newest first, a page at a time",
    responses=problem_responses(400, 401, 404),
)
async def following(
    username: UsernamePath,
    query: Annotated[CursorQuery, Query()],
    user: CurrentUser,
    session: SessionDep,
) -> CursorPage[ProfileSummary]:
    return await service.following(session, user, username, query)
