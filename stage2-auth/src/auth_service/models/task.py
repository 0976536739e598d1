"""Tasks, owned by users, and the tags their owners put on them (many to many)."""

from datetime import date
from enum import StrEnum

from sqlalchemy import Column, Date, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth_service.models.base import Base, pg_enum
from roadmap_shared.database import TimestampMixin

# The column's length; the API refuses longer titles with 422 before they reach it.
TITLE_MAX_LENGTH = 200


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class TaskPriority(StrEnum):
    # PostgreSQL sorts an enum in the order its values were declared, so ORDER BY priority
    # means low < medium < high, not alphabetical order.
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


task_tags = Table(
    "task_tags",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    # The primary key (task_id, tag_id) serves lookups by task; this index serves the
    # other direction, "tasks with tag X".
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    """A label, private to its owner: one user's "work" is not another's."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TaskStatus] = mapped_column(
        pg_enum(TaskStatus, "task_status"), default=TaskStatus.TODO
    )
    priority: Mapped[TaskPriority] = mapped_column(
        pg_enum(TaskPriority, "task_priority"), default=TaskPriority.MEDIUM
    )
    due_date: Mapped[date | None] = mapped_column(Date)

    # lazy="raise": reading `task.tags` without loading them in the query is an error, not
    # a hidden query per task. Queries load them with `selectinload(Task.tags)`.
    tags: Mapped[list[Tag]] = relationship(secondary=task_tags, lazy="raise", order_by=Tag.name)
