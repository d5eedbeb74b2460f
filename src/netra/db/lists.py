"""`in_list`: a column IN a list of values bound when the statement runs.

SQLAlchemy's expanding IN (`column.in_(bindparam(name, expanding=True))`) renders one
parameter per item into the statement's text at every execution; with the hundreds of
ids a group of posts reads at once, that rendering cost more of the event loop than the
query (docs/architecture.md, Performance: 5 µs an id on PostgreSQL). There the list goes
as one array parameter instead, `column = ANY($1::VARCHAR(36)[])`: one statement text,
compiled once and prepared once. On SQLite the list goes as one JSON text, read by
`json_each`: `column IN (SELECT value FROM json_each(?))`, likewise one text (so
SQLite's own statement cache keeps it prepared), its lookups still by the column's
index. Other databases keep the expanding IN."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class InList(ColumnElement[bool]):
    """`column` is one of the values bound as `name` (a list; empty matches nothing)."""

    inherit_cache = True
    type = Boolean()
    # A comparison already: a WHERE clause uses it as is (no `= 1` on SQLite).
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column, self.name = column, name


def in_list(column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> InList:
    """`column` (a table's, or a mapped class's attribute) IN the list given as parameter
    `name` when the statement runs."""
    return InList(column.expression, name)


@compiles(InList)
def _expanding(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(InList, "postgresql")
def _any_of_array(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    values = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(values), **kw)


@compiles(InList, "sqlite")
def _json_each(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    each = func.json_each(bindparam(element.name, type_=JSON())).table_valued("value")
    return compiler.process(element.column.in_(select(each.c.value)), **kw)
