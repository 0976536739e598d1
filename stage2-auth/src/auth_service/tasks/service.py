"""Who may do what with a task.

- Owners do everything with their own tasks.
- Admins may read anyone's tasks (support, moderation), but not change them: a task is its
  owner's, and an edit made by somebody else would be a surprise nobody audits. Asking
  to change another's task gets 403, since an admin may know the task exists.
- Everyone else gets 404 for a task that is not theirs, exactly as for one that does not
  exist, so task ids reveal nothing.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import Task, User
from auth_service.tasks import repository
from auth_service.tasks.ordering import cursor_after
from auth_service.tasks.repository import TaskFilter
from auth_service.tasks.schemas import TaskCreate, TaskPublic, TaskQuery, TaskUpdate
from roadmap_shared.database import utcnow
from roadmap_shared.errors import Forbidden, NotFound
from roadmap_shared.pagination import CursorPage


def _not_found() -> NotFound:
    return NotFound("No task has this id.")


async def task_to_read(session: AsyncSession, user: User, task_id: int) -> Task:
    task = await repository.get_task(session, task_id)
    if task is None or (task.owner_id != user.id and not user.is_admin):
        raise _not_found()
    return task


async def task_to_change(session: AsyncSession, user: User, task_id: int) -> Task:
    task = await task_to_read(session, user, task_id)
    if task.owner_id != user.id:
        raise Forbidden("Admins may read other users' tasks, but not change them.")
    return task


async def list_tasks(session: AsyncSession, user: User, query: TaskQuery) -> CursorPage[TaskPublic]:
    owner_id = query.owner_id if query.owner_id is not None else user.id
    if owner_id != user.id and not user.is_admin:
        raise Forbidden("Only admins may list other users' tasks.")
    where = TaskFilter(
        owner_id=owner_id,
        status=query.status,
        priority=query.priority,
        due_before=query.due_before,
        due_after=query.due_after,
        tag=query.tag,
        text=query.q,
    )
    # One row more than the page holds says whether there is a next page.
    tasks = await repository.list_tasks(
        session, where, sort=query.sort, cursor=query.cursor, limit=query.limit + 1
    )
    page, more = tasks[: query.limit], len(tasks) > query.limit
    return CursorPage(
        items=[TaskPublic.of(task) for task in page],
        next_cursor=cursor_after(page[-1], query.sort) if more else None,
    )


async def create_task(session: AsyncSession, user: User, data: TaskCreate) -> Task:
    task = Task(
        owner_id=user.id,
        title=data.title,
        notes=data.notes,
        status=data.status,
        priority=data.priority,
        due_date=data.due_date,
        tags=await repository.tags_named(session, user.id, data.tags),
    )
    session.add(task)
    await session.flush()
    return task


async def update_task(session: AsyncSession, user: User, task_id: int, data: TaskUpdate) -> Task:
    task = await task_to_change(session, user, task_id)
    changes = data.model_dump(exclude_unset=True, exclude={"tags"})
    for field, value in changes.items():
        setattr(task, field, value)
    if data.tags is not None:
        task.tags = await repository.tags_named(session, user.id, data.tags)
    if data.model_fields_set:
        # Set here rather than left to the column's `onupdate`, which a change of tags alone
        # (rows in task_tags, not in tasks) would not trigger.
        task.updated_at = utcnow()
    await session.flush()
    return task


async def delete_task(session: AsyncSession, user: User, task_id: int) -> None:
    task = await task_to_change(session, user, task_id)
    await session.delete(task)
