"""Plain multi-row inserts for the hot paths of big imports (rosters, the benchmark, the demo).

Django's bulk_create sends every value through its field machinery and model instances; for
millions of rows that overhead is most of the time. `insert_values` takes plain dicts keyed
by attribute name (`home_id`, not `home`), fills every other column with its field default
(auto_now fields get `now`), adapts only the types that need it (JSON, dates, decimals) and
sends the rows with `executemany`. Same SQL on SQLite and PostgreSQL. No signals, no
`save()`, no validation: trusted callers only, who checked the data before.

`insert_rows` does the same with one tuple per row (no dict) for the hottest tables.
`reserve_ids` hands out primary keys before an insert (`insert_values(..., with_pk=True)` or
an "id" column of `insert_rows`), so that a caller who needs the new ids (to insert rows
pointing at them) need not read them back afterwards. `bulk_write_tuning` sizes SQLite's page
cache for one import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connection, models

BATCH = 5000


def _plan(
    model: type[models.Model], now: dt.datetime, with_pk: bool = False
) -> tuple[str, list[tuple[str, Any, Callable[[Any], Any] | None]]]:
    quote = connection.ops.quote_name
    # Every column but a generated (auto-increment) key, unless the caller gives it
    # (`reserve_ids`); a one-to-one primary key is always given.
    fields = [field for field in model._meta.concrete_fields if with_pk or not field.db_returning]
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

        if isinstance(field, models.DecimalField):
            # The hot case of imports (floor areas, shares): a finite Decimal needs only the
            # backend's adaptation, not the field's conversion (which returns it unchanged).
            def adapt(
                value: Any,
                field: models.DecimalField = field,  # type: ignore[type-arg]
                slow: Callable[[Any], Any] = adapt,  # type: ignore[assignment]
                ops: Any = connection.ops,
            ) -> Any:
                if type(value) is Decimal and value.is_finite():
                    return ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
                return slow(value)

        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default, adapt = stamped, None
        else:
            default = field.get_default()
            default = adapt(default) if adapt is not None else default
        plan.append((field.attname, default, adapt))
    return sql, plan


def insert_values(
    model: type[models.Model], rows: Iterable[dict[str, Any]], *, now: dt.datetime, with_pk: bool = False
) -> int:
    """Insert one row per dict (attribute name → value); returns the number of rows.
    With `with_pk`, every dict carries its primary key (from `reserve_ids`)."""
    sql, plan = _plan(model, now, with_pk)
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


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    now: dt.datetime,
) -> int:
    """`insert_values` for the hottest paths: each row a sequence of values for `columns`
    (attribute names, in that order; may include a key from `reserve_ids`), every other
    column its default. No dict per row. Returns the number of rows."""
    _, plan = _plan(model, now, with_pk=True)
    given = {name: (default, adapt) for name, default, adapt in plan}
    unknown = set(columns) - set(given)
    if unknown:
        raise ValueError(f"not columns of {model._meta.label}: {sorted(unknown)}")
    generated = {field.attname for field in model._meta.concrete_fields if field.db_returning}
    rest = [name for name, _, _ in plan if name not in columns and name not in generated]
    attnames = {field.attname: field.column for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    names = [*columns, *rest]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(attnames[n])) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    tail = tuple(given[name][0] for name in rest)
    adapters = [(index, adapt) for index, name in enumerate(columns) if (adapt := given[name][1]) is not None]
    count = 0
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            if adapters:
                values = list(row)
                for index, adapt in adapters:
                    values[index] = adapt(values[index])
                batch.append((*values, *tail))
            else:
                batch.append((*row, *tail))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, never handed out before (nor again), to insert with
    `insert_values(..., with_pk=True)`. Inside a transaction only: the reservation is a write
    that takes the database's write lock (SQLite) and rolls back with the transaction."""
    if count <= 0:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("reserve_ids needs a transaction")
    table, column = model._meta.db_table, str(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The key's sequence (serial or identity column): other sessions may draw from it
            # at the same time, so the keys need not be consecutive.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(connection.vendor)
        # Django's SQLite keys are AUTOINCREMENT: sqlite_sequence holds the largest key ever
        # used, and SQLite never hands out a key at or below it. Raising it by `count` is a
        # write: it takes the write lock (no other connection can insert until the commit),
        # and the keys SQLite hands out itself afterwards start above the block.
        quote = connection.ops.quote_name
        largest = f"(SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)})"
        cursor.execute(
            f"UPDATE sqlite_sequence SET seq = MAX(seq, {largest}) + %s WHERE name = %s", [count, table]
        )
        if cursor.rowcount == 0:  # no row ever inserted: SQLite adds the table's entry then
            cursor.execute(
                f"INSERT INTO sqlite_sequence (name, seq) VALUES (%s, {largest} + %s)", [table, count]
            )
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
    return list(range(last - count + 1, last + 1))


@contextmanager
def bulk_write_tuning() -> Iterator[None]:
    """SQLite: give this connection a page cache big enough for the index inserts of a large
    import (the default is ~8 MB, and random keys such as hashes then spill pages over and
    over), and set the previous size again afterwards: a worker's connection outlives the
    import. Put it around the transaction, so that the commit still has the big cache.
    Nothing about durability changes. PostgreSQL needs nothing here."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {previous}")  # frees the pages above it
        except DatabaseError:  # a broken connection: Django discards it anyway
            pass


SQLITE_CACHE_KIB = 256 * 1024
