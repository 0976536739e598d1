"""Counting the SQL statements a block of code runs, to prove list endpoints have no N+1."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Transaction bookkeeping is not a query the code under test chose to run.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{n}. {sql}" for n, sql in enumerate(self.statements, 1))


@contextmanager
def count_queries(engine: Engine) -> Iterator[QueryLog]:
    """Records every statement sent through `engine` (pass `async_engine.sync_engine`)."""
    log = QueryLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            log.statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
