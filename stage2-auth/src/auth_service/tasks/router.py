from typing import Annotated

from fastapi import APIRouter, Query, status

from auth_service.dependencies import CurrentUser, SessionDep
from auth_service.tasks import service
from auth_service.tasks.schemas import TaskCreate, TaskPublic, TaskQuery, TaskUpdate
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import IdPath
from roadmap_shared.pagination import CursorPage

router = APIRouter(prefix="/tasks", tags=["tasks"])
TaskId = IdPath


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a task",
    responses=problem_responses(401),
)
async def create_task(data: TaskCreate, user: CurrentUser, session: SessionDep) -> TaskPublic:
    return TaskPublic.of(await service.create_task(session, user, data))


@router.get(
    "",
    summary="List your tasks (admins: anyone's), filtered, sorted, a page at a time",
    responses=problem_responses(400, 401, 403),
)
async def list_tasks(
    query: Annotated[TaskQuery, Query()], user: CurrentUser, session: SessionDep
) -> CursorPage[TaskPublic]:
    return await service.list_tasks(session, user, query)


@router.get("/{task_id}", summary="One task", responses=problem_responses(401, 404))
async def read_task(task_id: TaskId, user: CurrentUser, session: SessionDep) -> TaskPublic:
    return TaskPublic.of(await service.task_to_read(session, user, task_id))


@router.patch(
    "/{task_id}", summary="Change some fields of a task", responses=problem_responses(401, 403, 404)
)
async def update_task(
    task_id: TaskId, data: TaskUpdate, user: CurrentUser, session: SessionDep
) -> TaskPublic:
    return TaskPublic.of(await service.update_task(session, user, task_id, data))


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a task",
    responses=problem_responses(401, 403, 404),
)
async def delete_task(task_id: TaskId, user: CurrentUser, session: SessionDep) -> None:
    await service.delete_task(session, user, task_id)
