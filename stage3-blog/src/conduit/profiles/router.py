"""Profiles: read one, follow, unfollow."""

from fastapi import APIRouter

from conduit.dependencies import TOKEN_OPTIONAL, SessionDep, ViewerId, Writer
from conduit.errors import spec_errors
from conduit.profiles import service
from conduit.profiles.schemas import ProfileResponse
from conduit.schemas import Text

router = APIRouter(prefix="/profiles", tags=["Profile"])


@router.get(
    "/{username}",
    summary="Get a profile",
    responses=spec_errors(404),
    openapi_extra=TOKEN_OPTIONAL,
)
async def get_profile(username: Text, session: SessionDep, viewer_id: ViewerId) -> ProfileResponse:
    return ProfileResponse(profile=await service.get_profile(session, username, viewer_id))


@router.post("/{username}/follow", summary="Follow a user", responses=spec_errors(403, 404))
async def follow(username: Text, session: SessionDep, user: Writer) -> ProfileResponse:
    return ProfileResponse(profile=await service.follow(session, username, user))


@router.delete("/{username}/follow", summary="Unfollow a user", responses=spec_errors(403, 404))
async def unfollow(username: Text, session: SessionDep, user: Writer) -> ProfileResponse:
    return ProfileResponse(profile=await service.unfollow(session, username, user))
