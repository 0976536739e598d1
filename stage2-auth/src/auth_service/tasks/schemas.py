from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from auth_service.models import Task, TaskPriority, TaskStatus
from auth_service.models.task import TITLE_MAX_LENGTH
from auth_service.tasks.ordering import TaskSort
from roadmap_shared.fields import MAX_INT32, StoredText
from roadmap_shared.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

TAG_MAX_LENGTH = 50
MAX_TAGS_PER_TASK = 20


def _fits_tag_column(tag: str) -> str:
    # `to_lower` runs after the length check, and a few characters grow when lower-cased
    # ("İ" becomes "i̇", two characters): check the length of what will be stored.
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(f"must be at most {TAG_MAX_LENGTH} characters once lower-cased")
    return tag


Title = Annotated[
    StoredText, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH)
]
Notes = Annotated[StoredText, Field(max_length=10_000)]
TagName = Annotated[
    StoredText,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=TAG_MAX_LENGTH
    ),
    AfterValidator(_fits_tag_column),
]


def _distinct_sorted(tags: list[str]) -> list[str]:
    return sorted(set(tags))


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    notes: Notes = ""
    status: TaskStatus = TaskStatus.TODO
    priority: TaskPriority = TaskPriority.MEDIUM
    due_date: date | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS_PER_TASK)

    @field_validator("tags")
    @classmethod
    def _distinct_tags(cls, tags: list[str]) -> list[str]:
        return _distinct_sorted(tags)


class TaskUpdate(BaseModel):
    """A partial update: fields left out stay as they are; `due_date: null` clears it;
    `tags` replaces the whole set."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    notes: Notes | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: date | None = None
    tags: list[TagName] | None = Field(default=None, max_length=MAX_TAGS_PER_TASK)

    @field_validator("title", "notes", "status", "priority", "tags")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Only due_date may be cleared with null; the others always have a value.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value

    @field_validator("tags")
    @classmethod
    def _distinct_tags(cls, tags: list[str]) -> list[str]:
        return _distinct_sorted(tags)


class TaskPublic(BaseModel):
    id: int
    owner_id: int
    title: str
    notes: str
    status: TaskStatus
    priority: TaskPriority
    due_date: date | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> "TaskPublic":
        return cls(
            id=task.id,
            owner_id=task.owner_id,
            title=task.title,
            notes=task.notes,
            status=task.status,
            priority=task.priority,
            due_date=task.due_date,
            tags=[tag.name for tag in task.tags],
            created_at=task.created_at,
            updated_at=task.updated_at,
        )


class TaskQuery(BaseModel):
    """The query string of `GET /tasks`: filters, sort order and the page to read."""

    model_config = ConfigDict(extra="forbid")

    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_before: date | None = Field(default=None, description="Due strictly before this date")
    due_after: date | None = Field(default=None, description="Due strictly after this date")
    tag: TagName | None = None
    q: StoredText | None = Field(
        default=None, min_length=1, max_length=100, description="Text in the title or notes"
    )
    owner_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_INT32,
        description="Whose tasks to list (admins only); yours when left out",
    )
    sort: TaskSort = TaskSort.CREATED_AT_DESC
    cursor: str | None = Field(
        default=None, max_length=500, description="`next_cursor` from the previous page"
    )
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
