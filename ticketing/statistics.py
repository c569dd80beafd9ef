"""Topic statistics (实时统计咨询事项): tickets counted by category, station and period, and the data
of the monthly hot-topic report. Counting is done in SQL per local day; periods fold in Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.dialect import local_day
from storage.tables import DataExport, Station, Ticket
from ticketing.domain.access import Actor
from ticketing.domain.escalation import station_chain
from ticketing.domain.topics import Question, RisingTopic, TopTopic, rising_topics, top_topics, typical_questions

Granularity = Literal["day", "week", "month", "all"]
#: How tickets without a category are shown.
UNCLASSIFIED = "未分类"


def local_range(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local days [start, end] as UTC instants [begin, finish)."""
    begin = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    finish = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return begin, finish


def bucket_of(day: date, granularity: Granularity) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{day:%Y-%m}"
    return "all"


def as_date(value: Any) -> date:
    """A day from SQL: PostgreSQL returns a date, SQLite ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass
class TopicCounts:
    total: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_subcategory: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: bucket → category → count
    series: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def topic_counts(
    session: Session,
    start: date,
    end: date,
    tz: ZoneInfo,
    granularity: Granularity,
    *,
    category: str | None = None,
    station_id: int | None = None,
) -> TopicCounts:
    """Tickets created on local days [start, end], by category, subcategory and period bucket.

    With `station_id`, only tickets forwarded to that station or any station below it.
    """
    begin, finish = local_range(start, end, tz)
    day = local_day(session, Ticket.created_at, tz).label("day")
    query = (
        select(day, Ticket.category, Ticket.subcategory, func.count().label("n"))
        .where(Ticket.created_at >= begin, Ticket.created_at < finish)
        .group_by(day, Ticket.category, Ticket.subcategory)
    )
    if category is not None:
        query = query.where(Ticket.category == category)
    if station_id is not None:
        path = select(Station.path).where(Station.id == station_id).scalar_subquery()
        subtree = select(Station.id).where(Station.path.startswith(path))
        query = query.where(Ticket.station_id.in_(subtree))
    counts = TopicCounts()
    for row_day, row_category, subcategory, n in session.execute(query):
        name = row_category or UNCLASSIFIED
        counts.total += n
        counts.by_category[name] += n
        if subcategory:
            counts.by_subcategory[name][subcategory] += n
        counts.series[bucket_of(as_date(row_day), granularity)][name] += n
    return counts


@dataclass
class StationCount:
    id: int
    name: str
    level: str
    parent_id: int | None
    own: int = 0
    #: The station and every station below it.
    total: int = 0


def station_counts(
    session: Session, start: date, end: date, tz: ZoneInfo, category: str | None = None
) -> tuple[list[StationCount], int]:
    """Per station: tickets forwarded to it, and to its whole subtree; plus tickets never forwarded."""
    begin, finish = local_range(start, end, tz)
    query = (
        select(Ticket.station_id, func.count())
        .where(Ticket.created_at >= begin, Ticket.created_at < finish)
        .group_by(Ticket.station_id)
    )
    if category is not None:
        query = query.where(Ticket.category == category)
    own: dict[int | None, int] = {station: n for station, n in session.execute(query)}
    stations = session.scalars(select(Station).order_by(Station.path)).all()
    rows = {s.id: StationCount(s.id, s.name, s.level, s.parent_id, own.get(s.id, 0)) for s in stations}
    for station in stations:
        for ancestor in station_chain(station.path):
            if ancestor in rows:
                rows[ancestor].total += rows[station.id].own
    return list(rows.values()), own.get(None, 0)


def month_range(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass
class HotTopics:
    month: str
    total: int
    previous_total: int
    unclassified: int
    top: list[TopTopic]
    rising: list[RisingTopic]
    #: category → short questions with personal numbers removed
    typical: dict[str, list[str]]


def _month_counts(session: Session, month: date, tz: ZoneInfo) -> Counter[str]:
    start, end = month_range(month)
    return topic_counts(session, start, end, tz, "all").by_category


def hot_topics(session: Session, month: date, tz: ZoneInfo, limit: int = 10, per_topic: int = 3) -> HotTopics:
    """The monthly hot-topic report: most asked, rising against the previous month, typical questions."""
    first, last = month_range(month)
    current = _month_counts(session, first, tz)
    previous = _month_counts(session, first - timedelta(days=1), tz)
    unclassified = current.pop(UNCLASSIFIED, 0)
    previous_unclassified = previous.pop(UNCLASSIFIED, 0)
    top = top_topics(current, previous, limit)
    begin, finish = local_range(first, last, tz)
    typical = {}
    for topic in top:
        rows = session.execute(
            select(Ticket.subcategory, func.substr(Ticket.description, 1, 300))
            .where(Ticket.created_at >= begin, Ticket.created_at < finish, Ticket.category == topic.category)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(500)
        ).all()
        typical[topic.category] = typical_questions([Question(sub, text) for sub, text in rows], per_topic)
    return HotTopics(
        month=f"{first:%Y-%m}",
        total=sum(current.values()) + unclassified,
        previous_total=sum(previous.values()) + previous_unclassified,
        unclassified=unclassified,
        top=top,
        rising=rising_topics(current, previous, limit),
        typical=typical,
    )


def record_export(
    session: Session, actor: Actor, report: str, fmt: str, params: dict[str, Any], rows: int, now: datetime
) -> DataExport:
    """Audit one download (who, what, with which filters); the caller commits with the response."""
    export = DataExport(at=now, user_id=actor.user_id, report=report, format=fmt, params=params, rows=rows)
    session.add(export)
    return export


def exports(session: Session, limit: int) -> Iterable[DataExport]:
    return session.scalars(select(DataExport).order_by(DataExport.id.desc()).limit(limit)).all()
