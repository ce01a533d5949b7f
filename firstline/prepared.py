"""Hand-written SQL for the few statements of the gate-scan hot path, read into model instances as the ORM would.

Why: a scan request (``POST /api/v1/scans``) makes eight statements. Measured in-process
(300 requests, ``cProfile``, docs/benchmarks.md "Gate scans"), Django spent a third of
the request compiling their SQL — building the ``Query``, resolving lookups, ordering and
select lists — for statements whose text never changes: ~2.5 of ~6.5 ms. Here each such
statement is written once, per process and database vendor, and run with its parameters.

The rules that keep it as safe and portable as the ORM: table and column names come from
the models' ``_meta`` (quoted by the backend), never from input; every value is a ``%s``
parameter, prepared by its field (``get_db_prep_value``/``get_db_prep_save``: a datetime in
UTC for SQLite, a UUID as hex, JSON as JSON); every column read goes through the converters
the ORM would apply; only standard SQL (``RETURNING`` is in SQLite ≥ 3.35 and PostgreSQL).
Inserts and updates send no ``pre_save``/``post_save`` signals: use them only for models
that have no receivers and no ``save()`` of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], name: str) -> str:
    """A field's column (by field name), qualified by its table and quoted."""
    field: Field = model._meta.get_field(name)  # type: ignore[assignment]
    return f"{table(model)}.{connection.ops.quote_name(field.column)}"


def columns(model: type[Model]) -> str:
    """All concrete columns of the model, qualified and quoted, in ``_meta.concrete_fields`` order (for ``rows``)."""
    return ", ".join(column(model, field.name) for field in model._meta.concrete_fields)


def param(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the ORM would send it for a lookup on field ``name``."""
    field: Field = model._meta.get_field(name)  # type: ignore[assignment]
    return field.get_db_prep_value(value, connection)


@cache
def _converters(model: type[Model], vendor: str) -> list[tuple[Any, list[Callable[..., Any]]]]:
    result = []
    for field in model._meta.concrete_fields:
        col = field.get_col(model._meta.db_table)
        result.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return result


def instance(model: type[M], row: Sequence[Any], start: int = 0) -> M:
    """The model instance of ``row[start:]`` (selected with ``columns(model)``), converted as the ORM does."""
    values = []
    for index, (col, converters) in enumerate(_converters(model, connection.vendor), start):
        value = row[index]
        for converter in converters:
            value = converter(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field in model._meta.concrete_fields], values)


def fetch(sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def execute(sql: str, params: Iterable[Any]) -> int:
    """Run one statement; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


@cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, list[Field]]:
    fields: list[Field] = [field for field in model._meta.local_concrete_fields if not field.primary_key]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    pk = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table(model)} ({names}) VALUES ({marks}) RETURNING {pk}", fields  # noqa: S608 (names from _meta)


def insert(obj: Model) -> None:
    """``obj.save()`` of a new row with an automatic primary key, without compiling the INSERT each time."""
    sql, fields = _insert_sql(type(obj), connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias


@cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, list[Field]]:
    fields: list[Field] = [model._meta.get_field(name) for name in names]  # type: ignore[misc]
    sets = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    pk = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
    return f"UPDATE {table(model)} SET {sets} WHERE {pk} = %s", fields  # noqa: S608 (names from _meta)


def update(obj: Model, names: tuple[str, ...]) -> None:
    """``obj.save(update_fields=names)`` of an existing row, without compiling the UPDATE each time."""
    sql, fields = _update_sql(type(obj), names, connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    execute(sql, [*values, obj.pk])
