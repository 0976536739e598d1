"""Admins manage users under `/users/{user_id}`; `/users/me` (in `users.router`) is
included first, so `me` is never read as an id."""

from typing import Annotated

from fastapi import APIRouter, Query

from auth_service.admin import service
from auth_service.dependencies import AdminUser, SessionDep
from auth_service.users.schemas import RoleChange, UserFilters, UserPublic
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import IdPath
from roadmap_shared.pagination import Page, PageParamsDep

router = APIRouter(prefix="/users", tags=["users administration"])
ADMIN_ERRORS = problem_responses(401, 403, 404)
UserId = IdPath


@router.get("", summary="List users (admins)", responses=problem_responses(401, 403))
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    filters: Annotated[UserFilters, Query()],
    page: PageParamsDep,
) -> Page[UserPublic]:
    users, total = await service.list_users(session, filters, page)
    return Page.of([UserPublic.model_validate(u) for u in users], total=total, params=page)


@router.get("/{user_id}", summary="One user (admins)", responses=ADMIN_ERRORS)
async def read_user(user_id: UserId, _admin: AdminUser, session: SessionDep) -> UserPublic:
    return UserPublic.model_validate(await service.get_user(session, user_id))


@router.put("/{user_id}/role", summary="Change a user's role (admins)", responses=ADMIN_ERRORS)
async def change_role(
    user_id: UserId, data: RoleChange, admin: AdminUser, session: SessionDep
) -> UserPublic:
    user = await service.change_role(session, admin, user_id, data.role)
    return UserPublic.model_validate(user)


@router.post(
    "/{user_id}/deactivate",
    summary="Deactivate a user: they cannot sign in and their tokens stop working (admins)",
    responses=ADMIN_ERRORS,
)
async def deactivate(user_id: UserId, admin: AdminUser, session: SessionDep) -> UserPublic:
    user = await service.deactivate(session, admin, user_id)
    return UserPublic.model_validate(user)


@router.post(
    "/{user_id}/reactivate",
    summary="Let a deactivated user sign in again (admins)",
    responses=ADMIN_ERRORS,
)
async def reactivate(user_id: UserId, _admin: AdminUser, session: SessionDep) -> UserPublic:
    user = await service.reactivate(session, user_id)
    return UserPublic.model_validate(user)
