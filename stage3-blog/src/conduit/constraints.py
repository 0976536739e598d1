"""Telling which unique constraint a failed write broke.

Checking first ("is this username free?") gives friendly errors but cannot stop two
concurrent requests that both checked before either wrote; the unique constraint does.
When it fires, its name says which field to blame.
"""

from sqlalchemy.exc import IntegrityError

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


def violated_unique_constraint(error: IntegrityError) -> str | None:
    if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
        return None
    # asyncpg's own exception, which SQLAlchemy's wraps, knows the constraint's name.
    constraint = getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)
    return constraint if isinstance(constraint, str) else None
