from typing import Annotated

from fastapi import APIRouter, Query

from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.pagination import CursorPage
from social.dependencies import CurrentUser, SessionDep, TimelineStoreDep
from social.paging import CursorQuery
from social.posts.schemas import PostPublic
from social.timelines import service

router = APIRouter(prefix="/api/timeline", tags=["timeline"], dependencies=[NO_STORE])


@router.get(
    "",
    summary="Your home timeline: your posts and those of whom you follow, newest first",
    responses=problem_responses(400, 401),
)
async def home_timeline(
    query: Annotated[CursorQuery, Query()],
    user: CurrentUser,
    session: SessionDep,
    store: TimelineStoreDep,
) -> CursorPage[PostPublic]:
    return await service.home(session, store, user, query)
