"""Queue KPIs computed in SQL from Call rows, per queue and per hour, day or month (local time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hotline.kpi_formulas import QueueCounts
from ticketing.orm import Call

Granularity = Literal["hour", "day", "month", "all"]
ABANDONED = ("abandoned", "ring_no_answer_abandoned")
CLOSED_HOURS = "closed_hours"
_SQLITE_FORMATS = {"hour": "%Y-%m-%dT%H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}


@dataclass(frozen=True)
class KpiRow:
    bucket: str | None
    queue: str | None
    counts: QueueCounts

    def report(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "queue": self.queue, **self.counts.report()}


def _bucket(session: Session, granularity: Granularity, tz: ZoneInfo) -> ColumnElement[Any]:
    if granularity == "all":
        return literal(None)
    if session.get_bind().dialect.name == "postgresql":
        # Group on the truncated timestamp and format in Python: to_char per row doubles the query time.
        return func.date_trunc(granularity, func.timezone(tz.key, Call.offered_at))
    # SQLite stores naive UTC. China has had one fixed offset since 1991, so a modifier is exact.
    offset = datetime.now(tz).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return func.strftime(_SQLITE_FORMATS[granularity], Call.offered_at, f"{hours:+d} hours")


def _label(bucket: object, granularity: Granularity) -> str | None:
    if isinstance(bucket, datetime):
        return bucket.strftime(_SQLITE_FORMATS[granularity])
    return None if bucket is None else str(bucket)


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
) -> list[KpiRow]:
    """KPIs for calls offered in [start, end). Closed-hours calls are counted apart, not offered."""
    answered = Call.answered_at.is_not(None)
    abandoned = Call.outcome.in_(ABANDONED)
    in_hours = and_(Call.in_hours.is_(True), Call.outcome != CLOSED_HOURS)
    within = Call.wait_seconds <= threshold_s

    # Aggregate FILTER clauses (PostgreSQL, SQLite >= 3.30) beat CASE inside the aggregate.
    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count().filter(condition)

    def sum_if(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[float]:
        return func.coalesce(func.sum(cast(value, Float)).filter(condition), 0.0)

    bucket = _bucket(session, granularity, tz).label("bucket")
    queue_col = (Call.queue if by_queue else literal(None)).label("queue")
    query = (
        select(
            bucket,
            queue_col,
            count_if(in_hours).label("offered"),
            count_if(and_(in_hours, answered)).label("answered"),
            count_if(and_(in_hours, abandoned)).label("abandoned"),
            count_if(and_(in_hours, answered, within)).label("answered_within_t"),
            count_if(and_(in_hours, abandoned, within)).label("abandoned_within_t"),
            sum_if(and_(in_hours, answered), Call.wait_seconds).label("answered_wait_total"),
            sum_if(
                and_(in_hours, answered), func.coalesce(Call.talk_seconds, 0) + func.coalesce(Call.wrapup_seconds, 0)
            ).label("handle_total"),
            func.max(Call.wait_seconds).filter(in_hours).label("longest_wait"),
            count_if(~in_hours).label("closed_hours"),
        )
        .where(Call.offered_at >= start, Call.offered_at < end, Call.queue.is_not(None))
        .group_by(bucket, queue_col)
        .order_by(bucket, queue_col)
    )
    if queue is not None:
        query = query.where(Call.queue == queue)
    rows = session.execute(query).all()
    return [
        KpiRow(
            bucket=_label(row.bucket, granularity),
            queue=row.queue,
            counts=QueueCounts(
                offered=int(row.offered),
                answered=int(row.answered),
                abandoned=int(row.abandoned),
                answered_within_t=int(row.answered_within_t),
                abandoned_within_t=int(row.abandoned_within_t),
                answered_wait_total=float(row.answered_wait_total),
                handle_total=float(row.handle_total),
                longest_wait=None if row.longest_wait is None else float(row.longest_wait),
                closed_hours=int(row.closed_hours),
            ),
        )
        for row in rows
    ]
