"""Sorting tasks and paging through them with a cursor (keyset pagination).

The cursor holds the sort key and id of the last task on the page. The next page asks for
rows after that position: `WHERE (sort_key, id) > (:key, :id) ORDER BY sort_key, id`, a
single range scan. Unlike OFFSET, it does not get slower on later pages and does not skip
or repeat rows when tasks are added or deleted between requests. The id breaks ties, so
the order is total and stable.

A cursor comes back from the client, so it is validated like any other input: a forged or
stale one is a 400, never a query error.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, TypeAdapter, ValidationError
from sqlalchemy import Select, SQLColumnExpression, func, literal, tuple_

from auth_service.models import Task, TaskPriority
from auth_service.models.task import TITLE_MAX_LENGTH
from roadmap_shared.errors import BadRequest
from roadmap_shared.fields import MAX_INT32, StoredText
from roadmap_shared.pagination import decode_cursor, encode_cursor
from roadmap_shared.sorting import SortOrder

# Tasks without a due date sort after every dated one. Keyset pagination needs a sort key
# that is never NULL (NULL compares as unknown), hence this stand-in.
NO_DUE_DATE = date(9999, 12, 31)


class TaskSort(SortOrder):
    """A field to sort by; a leading `-` sorts in descending order."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    DUE_DATE = "due_date"
    DUE_DATE_DESC = "-due_date"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"
    TITLE = "title"
    TITLE_DESC = "-title"


def _in_utc(moment: datetime) -> datetime:
    # "9999-12-31T23:59:59-05:00" is a valid timestamp whose UTC time falls in year 10000,
    # which neither Python nor the driver can represent.
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc


_TASK_ID: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(strict=True, ge=1, le=MAX_INT32)])
# The key types below validate a key coming back in a cursor as strictly as the field it
# was read from: anything else would reach the query and fail there, as a 500.
_CREATED_AT: TypeAdapter[datetime] = TypeAdapter(Annotated[AwareDatetime, AfterValidator(_in_utc)])
_TITLE: TypeAdapter[str] = TypeAdapter(Annotated[StoredText, Field(max_length=TITLE_MAX_LENGTH)])


@dataclass(frozen=True)
class SortKey:
    expression: SQLColumnExpression[Any]
    of_task: Callable[[Task], object]
    # Turns the key into JSON for a cursor, and validates it when the cursor comes back.
    type: TypeAdapter[Any]


SORT_KEYS = {
    "created_at": SortKey(Task.created_at, lambda t: t.created_at, _CREATED_AT),
    "due_date": SortKey(
        func.coalesce(Task.due_date, literal(NO_DUE_DATE)),
        lambda t: t.due_date or NO_DUE_DATE,
        TypeAdapter(date),
    ),
    "priority": SortKey(Task.priority, lambda t: t.priority, TypeAdapter(TaskPriority)),
    "title": SortKey(Task.title, lambda t: t.title, _TITLE),
}


def apply_order(query: Select[Task], sort: TaskSort) -> Select[Task]:
    key = SORT_KEYS[sort.field]
    if sort.descending:
        return query.order_by(key.expression.desc(), Task.id.desc())
    return query.order_by(key.expression.asc(), Task.id.asc())


def apply_cursor(query: Select[Task], sort: TaskSort, cursor: str) -> Select[Task]:
    """Only rows after the cursor's position, in the direction of `sort`."""
    key = SORT_KEYS[sort.field]
    position = decode_cursor(cursor)
    if position.get("sort") != sort.value:
        raise BadRequest("This cursor belongs to another sort order; start from the first page.")
    try:
        after = (
            key.type.validate_python(position["key"]),
            _TASK_ID.validate_python(position["id"]),
        )
    except (KeyError, ValidationError) as exc:
        raise BadRequest(
            "The cursor is not valid; use `next_cursor` from a previous page."
        ) from exc
    row = tuple_(key.expression, Task.id)
    return query.where(row < after if sort.descending else row > after)


def cursor_after(task: Task, sort: TaskSort) -> str:
    key = SORT_KEYS[sort.field]
    position = {
        "sort": sort.value,
        "key": key.type.dump_python(key.of_task(task), mode="json"),
        "id": task.id,
    }
    return encode_cursor(position)
