from enum import Enum

from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import DeclarativeBase

from roadmap_shared.database import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


def pg_enum(enum_class: type[Enum], name: str) -> SqlEnum:
    """A PostgreSQL enum type holding the members' values ("in_progress"), not their Python
    names ("IN_PROGRESS"), so the database reads the same as the API."""
    return SqlEnum(
        enum_class, name=name, values_callable=lambda members: [m.value for m in members]
    )
