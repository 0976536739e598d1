from fastapi import APIRouter

from auth_service.dependencies import CurrentUser
from auth_service.users import service
from auth_service.users.schemas import ProfileUpdate, UserPublic
from roadmap_shared.errors import problem_responses

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", summary="The current user", responses=problem_responses(401))
async def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.patch("/me", summary="Update the current user's profile", responses=problem_responses(401))
async def update_me(data: ProfileUpdate, user: CurrentUser) -> UserPublic:
    # `user` was loaded by the request's session, which commits the change on return.
    service.update_profile(user, data)
    return UserPublic.model_validate(user)
