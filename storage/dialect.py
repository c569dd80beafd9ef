"""Where SQLite and PostgreSQL differ, in one place: every other module asks here, never the dialect.

SQLite (the embedded default) stores timestamps as naive UTC; China has kept one UTC offset since
1991, so a fixed offset modifier turns them into local time exactly. PostgreSQL converts with the
zone's name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, text
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert(session: Session, table: Any) -> PgInsert | SqliteInsert:
    """An INSERT that takes `.on_conflict_do_update(...)` and `.excluded` on either database."""
    return pg_insert(table) if is_postgres(session) else sqlite_insert(table)


def sqlite_offset_minutes(tz: ZoneInfo) -> int:
    """The zone's current UTC offset in minutes, for SQLite's date modifiers."""
    offset = datetime.now(tz).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def local_day(session: Session, column: Any, tz: ZoneInfo) -> ColumnElement[Any]:
    """SQL: the local calendar day of a UTC timestamp column."""
    if is_postgres(session):
        return func.date(func.timezone(tz.key, column))
    return func.date(column, f"{sqlite_offset_minutes(tz):+d} minutes")


def last_array_item_field(session: Session, column: Any, field: str) -> ColumnElement[Any]:
    """SQL: `field` of the last element of a JSON array column (e.g. an IVR path's last node)."""
    if is_postgres(session):
        # json -> -1 is the last element of an array (PostgreSQL counts negative indexes from the end).
        return column.op("->")(-1).op("->>")(field)
    return func.json_extract(column, f"$[#-1].{field}")


def transaction_lock(session: Session, key: int) -> None:
    """Serialise with other transactions taking the same key until this one ends. SQLite serialises
    writers by itself, so there this does nothing."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
