"""Plain multi-row inserts for the hot paths of big imports (rosters, the benchmark, the demo).

Django's bulk_create sends every value through its field machinery and model instances; for
millions of rows that overhead is most of the time. `insert_values` takes plain dicts keyed
by attribute name (`home_id`, not `home`), fills every other column with its field default
(auto_now fields get `now`), adapts only the types that need it (JSON, dates, decimals) and
sends the rows with `executemany`. Same SQL on SQLite and PostgreSQL. No signals, no
`save()`, no validation: trusted callers only, who checked the data before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models

BATCH = 5000


def _plan(
    model: type[models.Model], now: dt.datetime
) -> tuple[str, list[tuple[str, Any, Callable[[Any], Any] | None]]]:
    quote = connection.ops.quote_name
    # Every column but a generated (auto-increment) key; a one-to-one primary key is given.
    fields = [field for field in model._meta.concrete_fields if not field.db_returning]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    stamped = connection.ops.adapt_datetimefield_value(now)
    plan: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    for field in fields:
        adapt: Callable[[Any], Any] | None = None
        if isinstance(
            field, models.DateTimeField | models.DateField | models.JSONField | models.DecimalField
        ):

            def adapt(value: Any, field: models.Field = field) -> Any:  # type: ignore[type-arg]
                return None if value is None else field.get_db_prep_save(value, connection)

        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default, adapt = stamped, None
        else:
            default = field.get_default()
            default = adapt(default) if adapt is not None else default
        plan.append((field.attname, default, adapt))
    return sql, plan


def insert_values(model: type[models.Model], rows: Iterable[dict[str, Any]], *, now: dt.datetime) -> int:
    """Insert one row per dict (attribute name → value); returns the number of rows."""
    sql, plan = _plan(model, now)
    defaults = [(name, default) for name, default, _ in plan]
    adapters = [(index, name, adapt) for index, (name, _, adapt) in enumerate(plan) if adapt is not None]
    count = 0
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            values = [row.get(name, default) for name, default in defaults]
            for index, name, adapt in adapters:
                if name in row:
                    values[index] = adapt(values[index])
            batch.append(values)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def tune_connection_for_bulk_writes() -> None:
    """Give SQLite a page cache big enough for index inserts of a large import (its default
    is ~8 MB, and random keys such as hashes then spill pages over and over). Applies to
    this connection only; PostgreSQL needs nothing here."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


SQLITE_CACHE_KIB = 256 * 1024
