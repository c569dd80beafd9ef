"""Queue KPIs computed in SQL from Call rows, per queue and per hour, day or month (local time).

Two ways to the same counts: straight from `calls`, or from `call_stats_hourly`, which holds the
same aggregates per UTC hour and queue and is refreshed by the bridge for the hours it writes
(`refresh_hours`) or rebuilt for a period (`rebuild`, `hotline kpi rebuild`). Both use the one set
of aggregate expressions below, so they cannot drift apart; the formulas themselves are in
hotline.domain.kpi_formulas. China keeps one UTC offset, so local hours, days and months are whole UTC hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, cast, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hotline.domain.kpi_formulas import QueueCounts
from storage.dialect import is_postgres, sqlite_offset_minutes
from storage.tables import Call, CallStatsHourly

Granularity = Literal["hour", "day", "month", "all"]
ABANDONED = ("abandoned", "ring_no_answer_abandoned")
CLOSED_HOURS = "closed_hours"
_SQLITE_FORMATS = {"hour": "%Y-%m-%dT%H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}
_COUNTS = ("offered", "answered", "abandoned", "answered_within_t", "abandoned_within_t", "closed_hours", "handled")
_TOTALS = ("answered_wait_total", "handle_total")
#: A call after hours that the IVR sent to voicemail or a call-back never reached a queue: it is still
#: counted (closed hours), under NO_QUEUE, so that the hours a queue is closed are not a quiet line.
NO_QUEUE = "-"
QUEUE_OF_CALL = func.coalesce(Call.queue, NO_QUEUE)
COUNTED = or_(Call.queue.is_not(None), Call.outcome == CLOSED_HOURS)
#: First key of the rollup's advisory locks (the second is the hour since the epoch).
_ROLLUP_LOCK = 12348


@dataclass(frozen=True)
class KpiRow:
    bucket: str | None
    queue: str | None
    counts: QueueCounts

    def report(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "queue": self.queue, **self.counts.report()}


def _aggregates(threshold_s: int) -> list[ColumnElement[Any]]:
    """The per-group aggregates over `calls` that every KPI is computed from (DESIGN.md §5)."""
    answered = Call.answered_at.is_not(None)
    # Handle time known: the call ended, and in sight of the bridge (talk known).
    handled = and_(answered, Call.ended_at.is_not(None), Call.talk_seconds.is_not(None))
    abandoned = Call.outcome.in_(ABANDONED)
    # A call still in progress has no outcome yet: it counts when it ends, never as answered with no
    # handle time (nor as offered and unanswered).
    finished = Call.ended_at.is_not(None)
    in_hours = and_(finished, Call.in_hours.is_(True), Call.outcome != CLOSED_HOURS)
    closed = and_(finished, ~and_(Call.in_hours.is_(True), Call.outcome != CLOSED_HOURS))
    within = Call.wait_seconds <= threshold_s

    # Aggregate FILTER clauses (PostgreSQL, SQLite >= 3.30) beat CASE inside the aggregate.
    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count().filter(condition)

    def sum_if(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[float]:
        return func.coalesce(func.sum(cast(value, Float)).filter(condition), 0.0)

    handle = func.coalesce(Call.talk_seconds, 0) + func.coalesce(Call.wrapup_seconds, 0)
    return [
        count_if(in_hours).label("offered"),
        count_if(and_(in_hours, answered)).label("answered"),
        count_if(and_(in_hours, abandoned)).label("abandoned"),
        count_if(and_(in_hours, answered, within)).label("answered_within_t"),
        count_if(and_(in_hours, abandoned, within)).label("abandoned_within_t"),
        sum_if(and_(in_hours, answered), Call.wait_seconds).label("answered_wait_total"),
        sum_if(and_(in_hours, handled), handle).label("handle_total"),
        func.max(Call.wait_seconds).filter(in_hours).label("longest_wait"),
        count_if(closed).label("closed_hours"),
        count_if(and_(in_hours, handled)).label("handled"),
    ]


def _counts(row: Any) -> QueueCounts:
    return QueueCounts(
        **{name: int(getattr(row, name)) for name in _COUNTS},
        **{name: float(getattr(row, name)) for name in _TOTALS},
        longest_wait=None if row.longest_wait is None else float(row.longest_wait),
    )


def _bucket(session: Session, column: Any, granularity: Granularity, tz: ZoneInfo) -> ColumnElement[Any]:
    if granularity == "all":
        return literal(None)
    if is_postgres(session):
        # Group on the truncated timestamp and format in Python: to_char per row doubles the query time.
        return func.date_trunc(granularity, func.timezone(tz.key, column))
    # SQLite stores naive UTC. China has had one fixed offset since 1991, so a modifier is exact.
    return func.strftime(_SQLITE_FORMATS[granularity], column, f"{sqlite_offset_minutes(tz):+d} minutes")


def _label(bucket: object, granularity: Granularity) -> str | None:
    if isinstance(bucket, datetime):
        return bucket.strftime(_SQLITE_FORMATS[granularity])
    return None if bucket is None else str(bucket)


def _whole_hours(*moments: datetime) -> bool:
    return all(m.astimezone(UTC).minute == m.second == m.microsecond == 0 for m in moments)


def compute_kpis(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    threshold_s: int,
    tz: ZoneInfo,
    granularity: Granularity = "all",
    queue: str | None = None,
    by_queue: bool = False,
    rollup_threshold_s: int | None = None,
) -> list[KpiRow]:
    """KPIs for calls offered in [start, end). Closed-hours calls are counted apart, not offered.

    With `rollup_threshold_s` equal to `threshold_s` and a period of whole hours, the counts come
    from the hourly rollup; otherwise from the calls themselves."""
    if rollup_threshold_s == threshold_s and _whole_hours(start, end):
        return _from_rollup(session, start, end, threshold_s, tz, granularity, queue, by_queue)
    bucket = _bucket(session, Call.offered_at, granularity, tz).label("bucket")
    queue_col = (QUEUE_OF_CALL if by_queue else literal(None)).label("queue")
    query = (
        select(bucket, queue_col, *_aggregates(threshold_s))
        .where(Call.offered_at >= start, Call.offered_at < end, COUNTED)
        .group_by(bucket, queue_col)
        .order_by(bucket, queue_col)
    )
    if queue is not None:
        query = query.where(Call.queue == queue)
    return [KpiRow(_label(r.bucket, granularity), r.queue, _counts(r)) for r in session.execute(query)]


def _from_rollup(
    session: Session,
    start: datetime,
    end: datetime,
    threshold_s: int,
    tz: ZoneInfo,
    granularity: Granularity,
    queue: str | None,
    by_queue: bool,
) -> list[KpiRow]:
    stats = CallStatsHourly
    bucket = _bucket(session, stats.hour, granularity, tz).label("bucket")
    queue_col = (stats.queue if by_queue else literal(None)).label("queue")
    sums = [func.coalesce(func.sum(getattr(stats, name)), 0).label(name) for name in (*_COUNTS, *_TOTALS)]
    query = (
        select(bucket, queue_col, *sums, func.max(stats.longest_wait).label("longest_wait"))
        .where(stats.hour >= start, stats.hour < end, stats.threshold_s == threshold_s)
        .group_by(bucket, queue_col)
        .order_by(bucket, queue_col)
    )
    if queue is not None:
        query = query.where(stats.queue == queue)
    return [KpiRow(_label(r.bucket, granularity), r.queue, _counts(r)) for r in session.execute(query)]


def _hour_of(session: Session, column: Any) -> ColumnElement[Any]:
    if is_postgres(session):
        return func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", column)))
    return func.strftime("%Y-%m-%d %H:00:00.000000", column)


def _refresh(session: Session, start: datetime, end: datetime, threshold_s: int, hours: list[datetime] | None) -> None:
    """Recompute the rollup rows of [start, end) (only `hours` of it, when given) from `calls`.

    Several bridges write calls of the same hours at once: on PostgreSQL a transaction-scoped advisory
    lock per hour makes their refreshes take turns, so the second one's recount (a new statement,
    READ COMMITTED) sees the first one's committed calls and the rollup stays exact. SQLite has one
    writer at a time anyway."""
    stats = CallStatsHourly
    if is_postgres(session):
        first = int(start.timestamp()) // 3600
        locked = sorted(int(h.timestamp()) // 3600 for h in hours) if hours is not None else None
        for key in locked if locked is not None else range(first, -(-int(end.timestamp()) // 3600)):
            session.execute(select(func.pg_advisory_xact_lock(_ROLLUP_LOCK, key)))
    hour = _hour_of(session, Call.offered_at).label("hour")
    wiped = delete(stats).where(stats.hour >= start, stats.hour < end)
    if hours is not None:
        wiped = wiped.where(stats.hour.in_(hours))
    session.execute(wiped)
    source = (
        select(hour, QUEUE_OF_CALL, literal(threshold_s).label("threshold_s"), *_aggregates(threshold_s))
        .where(Call.offered_at >= start, Call.offered_at < end, COUNTED)
        .group_by(hour, QUEUE_OF_CALL)
    )
    columns = ["hour", "queue", "threshold_s", *_COUNTS[:5], *_TOTALS, "longest_wait", "closed_hours", "handled"]
    if hours is not None:
        keys = [h.strftime("%Y-%m-%d %H:00:00.000000") for h in hours] if not is_postgres(session) else hours
        source = source.where(hour.in_(keys))
    session.execute(insert(stats).from_select(columns, source))


def refresh_hours(session: Session, moments: Iterable[datetime | None], threshold_s: int) -> int:
    """Recompute the rollup for the hours these offered times fall in; returns how many hours."""
    hours = sorted({m.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for m in moments if m is not None})
    if hours:
        _refresh(session, hours[0], hours[-1] + timedelta(hours=1), threshold_s, hours)
    return len(hours)


def rebuild(session: Session, start: datetime, end: datetime, threshold_s: int) -> None:
    """Recompute the rollup for a whole period (after importing calls, or changing the threshold)."""
    start = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    _refresh(session, start, end, threshold_s, None)
