"""SQL for tasks and tags."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from auth_service.models import Tag, Task, TaskPriority, TaskStatus
from auth_service.tasks.ordering import TaskSort, apply_cursor, apply_order


@dataclass(frozen=True)
class TaskFilter:
    owner_id: int
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_before: date | None = None
    due_after: date | None = None
    tag: str | None = None
    text: str | None = None


async def get_task(session: AsyncSession, task_id: int) -> Task | None:
    return await session.scalar(
        select(Task).options(selectinload(Task.tags)).where(Task.id == task_id)
    )


async def list_tasks(
    session: AsyncSession, where: TaskFilter, *, sort: TaskSort, cursor: str | None, limit: int
) -> Sequence[Task]:
    """Up to `limit` tasks in `sort` order after `cursor`, with their tags: two queries
    however many tasks there are (the tags in one `IN` query, by `selectinload`)."""
    query = select(Task).options(selectinload(Task.tags)).where(Task.owner_id == where.owner_id)
    if where.status is not None:
        query = query.where(Task.status == where.status)
    if where.priority is not None:
        query = query.where(Task.priority == where.priority)
    if where.due_before is not None:
        query = query.where(Task.due_date < where.due_before)
    if where.due_after is not None:
        query = query.where(Task.due_date > where.due_after)
    if where.tag is not None:
        query = query.where(Task.tags.any(Tag.name == where.tag))
    if where.text is not None:
        # autoescape: a `%` or `_` typed by the user matches itself, not "anything".
        query = query.where(
            or_(
                Task.title.icontains(where.text, autoescape=True),
                Task.notes.icontains(where.text, autoescape=True),
            )
        )
    if cursor is not None:
        query = apply_cursor(query, sort, cursor)
    tasks = await session.scalars(apply_order(query, sort).limit(limit))
    return tasks.all()


async def tags_named(session: AsyncSession, owner_id: int, names: Sequence[str]) -> list[Tag]:
    """The owner's tags with these names, creating the missing ones.

    INSERT ... ON CONFLICT DO NOTHING, then SELECT: two requests creating the same new tag
    at once both end up with the one row, where "SELECT, then INSERT if missing" would
    let both INSERT and one fail on the unique constraint.
    """
    if not names:
        return []
    await session.execute(
        insert(Tag)
        .values([{"owner_id": owner_id, "name": name} for name in names])
        .on_conflict_do_nothing(index_elements=[Tag.owner_id, Tag.name])
    )
    tags = await session.scalars(
        select(Tag).where(Tag.owner_id == owner_id, Tag.name.in_(names)).order_by(Tag.name)
    )
    return list(tags)
