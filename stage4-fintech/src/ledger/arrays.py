"""Many rows in one statement: each column's values sent as one array and unnested by
PostgreSQL, instead of one parameter set per row that it would execute again and again."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, any_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement


def unnested(column: Column[Any]) -> ColumnElement[Any]:
    """`unnest(:columns)` named as the column. Several in one SELECT are read side by side,
    row i of each together, in the arrays' order. (The parameter's name is the column's
    plural: SQLAlchemy keeps the column's own name for the VALUES and SET clauses.)"""
    return func.unnest(bindparam(f"{column.name}s", type_=ARRAY(column.type))).label(column.name)


def as_arrays(
    rows: Sequence[Sequence[object]], columns: Sequence[Column[Any]]
) -> dict[str, list[object]]:
    """The parameters of a statement built with `unnested(column)` for these columns; each
    row holds its values in the columns' order."""
    arrays = zip(*rows, strict=True) if rows else ([] for _ in columns)
    return {f"{column.name}s": list(array) for column, array in zip(columns, arrays, strict=True)}


def any_of(column: Column[Any]) -> ColumnElement[bool]:
    """`column = ANY(:columns)`: one array parameter, where `column.in_(values)` would send
    one parameter a value and make a new statement for each number of values."""
    return column == any_(bindparam(f"{column.name}s", type_=ARRAY(column.type)))
