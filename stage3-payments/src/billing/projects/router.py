"""A small demo resource whose limit comes from the plan: how entitlements are enforced."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from billing.dependencies import SessionDep
from billing.models import Membership, Project
from billing.organizations.dependencies import OrgMember
from billing.subscriptions.dependencies import OrgEntitlements
from roadmap_shared.errors import Forbidden, problem_responses
from roadmap_shared.fields import StoredText

router = APIRouter(prefix="/organizations/{organization_id}/projects", tags=["projects"])


class ProjectCreate(BaseModel):
    name: StoredText = Field(min_length=1, max_length=100)


class ProjectPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


async def within_project_limit(
    membership: OrgMember, entitlements: OrgEntitlements, session: SessionDep
) -> Membership:
    """Refuses a new project once the plan's limit is reached. Counting is enough here for a
    demo; two creations at once could both pass (a per-organisation lock would stop it)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Project)
        .where(Project.organization_id == membership.organization_id)
    )
    if (count or 0) >= entitlements.max_projects:
        detail = f"The {entitlements.plan} plan allows {entitlements.max_projects} project(s)"
        if entitlements.suspended:
            detail += "; paid features are suspended until the overdue invoice is paid"
        raise Forbidden(detail)
    return membership


ProjectCreator = Annotated[Membership, Depends(within_project_limit)]


@router.get("", summary="The organisation's projects", responses=problem_responses(401, 404))
async def list_projects(membership: OrgMember, session: SessionDep) -> list[ProjectPublic]:
    projects = await session.scalars(
        select(Project)
        .where(Project.organization_id == membership.organization_id)
        .order_by(Project.id)
        .limit(100)
    )
    return [ProjectPublic.model_validate(project) for project in projects]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a project, within the plan's limit",
    responses=problem_responses(401, 403, 404),
)
async def create_project(
    body: ProjectCreate,
    membership: ProjectCreator,
    session: SessionDep,
) -> ProjectPublic:
    project = Project(organization_id=membership.organization_id, name=body.name)
    session.add(project)
    await session.flush()
    return ProjectPublic.model_validate(project)
