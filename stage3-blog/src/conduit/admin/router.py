"""Moderation endpoints, outside the RealWorld spec: suspend and reinstate accounts
(moderators and admins), change roles (admins)."""

from fastapi import APIRouter

from conduit.admin import service
from conduit.admin.schemas import ManagedUser, RoleChange
from conduit.dependencies import Admin, SessionDep, Staff
from roadmap_shared.errors import problem_responses

router = APIRouter(prefix="/admin/users", tags=["Moderation"])


@router.put(
    "/{username}/suspension",
    summary="Suspend an account: it can still read, but no longer write",
    responses=problem_responses(401, 403, 404, 429),
)
async def suspend(username: str, session: SessionDep, actor: Staff) -> ManagedUser:
    return service.managed(await service.suspend(session, username, actor))


@router.delete(
    "/{username}/suspension",
    summary="Lift a suspension",
    responses=problem_responses(401, 403, 404, 429),
)
async def unsuspend(username: str, session: SessionDep, actor: Staff) -> ManagedUser:
    return service.managed(await service.unsuspend(session, username, actor))


@router.put(
    "/{username}/role",
    summary="Make an account a user, moderator or admin",
    responses=problem_responses(401, 403, 404, 429),
)
async def change_role(
    *, username: str, body: RoleChange, session: SessionDep, actor: Admin
) -> ManagedUser:
    return service.managed(await service.change_role(session, username, body.role, actor))
