"""Writing many roll-up rows in a few statements per table, on SQLite and PostgreSQL.

`add_deltas` adds deltas to counter rows. Rows whose deltas are all ≥ 0 go in one
`INSERT … ON CONFLICT (key) DO UPDATE SET c = c + excluded.c` (a new row starts at its deltas). A row
with a negative delta was counted before, so it exists: those rows get one `UPDATE … FROM` the
values. (The two are kept apart because PostgreSQL checks a proposed row's CHECK constraints, here
"≥ 0", before it looks for a conflict.) `put_rows` writes whole rows, replacing those with the same key.

On PostgreSQL the values travel as one array per column (`unnest(%s::bigint[], …)`): a statement
with tens of thousands of placeholders cost more to build, send and parse than to run. SQLite gets
multi-row VALUES, in chunks under its limit of bound parameters.

Callers hold the roll-up mark's lock: there is one writer, so nothing races the rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models

# Bound parameters per statement (SQLite): under its limit of 32,766.
MAX_PARAMETERS = 30_000


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


class _Statement:
    """The SQL of one table's writes: its columns, and the rows as a source `v (c0, c1, …)`."""

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        self.fields = _fields(model, names)
        self.table = _quote(model._meta.db_table)
        self.columns = [_quote(str(field.column)) for field in self.fields]
        self.aliases = [f"c{index}" for index in range(len(self.fields))]
        self.json = {index for index, field in enumerate(self.fields) if isinstance(field, models.JSONField)}

    def source(self, rows: Sequence[Sequence[Any]]) -> tuple[str, str, list[Any]]:
        """(a WITH clause or "", the FROM item, the parameters) holding `rows` as v (c0, …)."""
        names = ", ".join(self.aliases)
        if connection.vendor == "postgresql":
            types = [str(field.db_type(connection)) for field in self.fields]
            arrays = [
                _array_literal(
                    [_json(row[index]) for row in rows]
                    if index in self.json
                    else [row[index] for row in rows]
                )
                for index in range(len(self.fields))
            ]
            unnest = ", ".join(f"%s::{kind}[]" for kind in types)
            return "", f"unnest({unnest}) AS v ({names})", arrays
        placeholders = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        params = [_sqlite(value, index in self.json) for row in rows for index, value in enumerate(row)]
        return f"WITH v ({names}) AS (VALUES {', '.join([placeholders] * len(rows))}) ", "v", params

    def chunks(self, rows: Sequence[Sequence[Any]]) -> list[Sequence[Sequence[Any]]]:
        size = max(1, len(rows) if connection.vendor == "postgresql" else MAX_PARAMETERS // len(self.fields))
        return [rows[start : start + size] for start in range(0, len(rows), size)]

    def insert(self, source: str, conflict: Sequence[str], updates: Sequence[str]) -> str:
        # `WHERE true`: SQLite's parser needs it between a SELECT and ON CONFLICT.
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) SELECT {', '.join(self.aliases)} FROM {source} "
            f"WHERE true ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {', '.join(updates)}"
        )


def _array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal ('{1,"a b",NULL}'), cast by the statement to the column's type.
    Written here rather than by the driver's list adapter, which spent more time per element than
    the database took to store it."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(_array_element(value) for value in values) + "}"


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _sqlite(value: Any, is_json: bool) -> Any:
    """A value as Django stores it in SQLite (dates and times as text; its own adapters are deprecated)."""
    if is_json:
        return _json(value)
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def add_deltas(
    model: type[models.Model],
    key_fields: Sequence[str],
    value_fields: Sequence[str],
    deltas: Mapping[tuple[Any, ...], Sequence[int]],
) -> int:
    """Add each key's deltas to its row (created when missing). Returns the rows written."""
    rows = [(*key, *values) for key, values in deltas.items() if any(values)]
    if not rows:
        return 0
    statement = _Statement(model, [*key_fields, *value_fields])
    width = len(key_fields)
    keys, values = statement.columns[:width], statement.columns[width:]
    table = statement.table
    growing = [row for row in rows if min(row[width:]) >= 0]
    shrinking = [row for row in rows if min(row[width:]) < 0]
    with connection.cursor() as cursor:
        for chunk in statement.chunks(growing):
            with_clause, source, params = statement.source(chunk)
            added = [f"{column} = {table}.{column} + excluded.{column}" for column in values]
            cursor.execute(with_clause + statement.insert(source, keys, added), params)
        for chunk in statement.chunks(shrinking):
            with_clause, source, params = statement.source(chunk)
            aliases = statement.aliases
            cursor.execute(
                f"{with_clause}UPDATE {table} SET "
                + ", ".join(
                    f"{column} = {table}.{column} + v.{aliases[width + i]}" for i, column in enumerate(values)
                )
                + f" FROM {source} WHERE "
                + " AND ".join(f"{table}.{column} = v.{aliases[i]}" for i, column in enumerate(keys)),
                params,
            )
    return len(rows)


def put_rows(
    model: type[models.Model], key_fields: Sequence[str], fields: Sequence[str], rows: list[Sequence[Any]]
) -> int:
    """Insert each row (`fields` in order, the key's among them), replacing the row with its key."""
    if not rows:
        return 0
    statement = _Statement(model, fields)
    keys = [statement.columns[list(fields).index(name)] for name in key_fields]
    replaced = [f"{column} = excluded.{column}" for column in statement.columns if column not in keys]
    with connection.cursor() as cursor:
        for chunk in statement.chunks(rows):
            with_clause, source, params = statement.source(chunk)
            cursor.execute(with_clause + statement.insert(source, keys, replaced), params)
    return len(rows)
