"""Sort options a list endpoint accepts, typed (polar's sorting, in one query parameter).

A stage lists its options as a `SortOrder`: each value is a field name, with a leading `-`
for descending. The enum documents the exact choices in OpenAPI, FastAPI refuses anything
else with a 422, and code reads `.field` and `.descending` instead of parsing strings.

    class TaskSort(SortOrder):
        CREATED_AT = "created_at"
        CREATED_AT_DESC = "-created_at"

    @router.get("/tasks")
    async def list_tasks(sort: Annotated[TaskSort, Query()] = TaskSort.CREATED_AT_DESC): ...
"""

from enum import StrEnum


class SortOrder(StrEnum):
    @property
    def field(self) -> str:
        """The name of the field to sort by."""
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")
