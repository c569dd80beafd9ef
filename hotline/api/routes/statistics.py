"""Topic statistics (实时统计咨询事项) and the monthly hot-topic report, as JSON, CSV or XLSX.

Supervisors and admins only. Every download of a report (CSV, XLSX, and the hot-topic report in any
format, since it quotes citizens) is recorded: who, when, which report, which filters.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hotline.api.deps import ContextDep, SessionDep, Supervising
from hotline.api.downloads import Format, deliver
from hotline.api.periods import Day, Month, local_days
from hotline.api.schemas import ExportOut
from hotline.bootstrap import Context
from hotline.reports.tables import Table
from ticketing.statistics import (
    Granularity,
    HotTopics,
    exports,
    hot_topics,
    station_counts,
    topic_counts,
)

router = APIRouter(prefix="/api/statistics", tags=["statistics"])

CategoryName = Annotated[str | None, Query(max_length=32)]


def _days(start: date | None, end: date | None, context: Context) -> tuple[date, date]:
    """Local days [start, end]; by default from the first of this month to today."""
    this_month = datetime.now(context.policy.tz).date().replace(day=1)
    return local_days(start, end, context.policy.tz, default_start=this_month)


@router.get("/topics", summary="Tickets by category and subcategory, per day, week or month")
def topics(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    granularity: Granularity = "day",
    category: CategoryName = None,
    station_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="this station and all below")] = None,
    format: Format = "json",
) -> Response:
    first, last = _days(start, end, context)
    counts = topic_counts(
        session, first, last, context.policy.tz, granularity, category=category, station_id=station_id
    )
    categories = [
        {
            "category": name,
            "count": n,
            "subcategories": [{"name": sub, "count": c} for sub, c in counts.by_subcategory[name].most_common()],
        }
        for name, n in counts.by_category.most_common()
    ]
    series = [
        {"bucket": bucket, "total": sum(by.values()), "by_category": dict(by.most_common())}
        for bucket, by in sorted(counts.series.items())
    ]
    params = {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "granularity": granularity,
        "category": category,
        "station_id": station_id,
    }
    body = {**params, "total": counts.total, "categories": categories, "series": series}
    by_category: list[list[Any]] = []
    for c in categories:
        by_category.append([c["category"], "", c["count"]])
        by_category += [[c["category"], sub["name"], sub["count"]] for sub in c["subcategories"]]
    tables = [
        Table("按类别 by category", ["类别 category", "子类 subcategory", "件数 count"], by_category),
        Table(
            "按时段 by period",
            ["时段 period", "类别 category", "件数 count"],
            [[s["bucket"], name, n] for s in series for name, n in s["by_category"].items()],
        ),
    ]
    return deliver(session, actor, "topics", format, params, body, tables)


@router.get("/stations", summary="Tickets per station, with each station's whole subtree rolled up")
def stations(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    category: CategoryName = None,
    format: Format = "json",
) -> Response:
    first, last = _days(start, end, context)
    rows, never_forwarded = station_counts(session, first, last, context.policy.tz, category)
    params = {"start": first.isoformat(), "end": last.isoformat(), "category": category}
    items = [
        {"id": r.id, "name": r.name, "level": r.level, "parent_id": r.parent_id, "own": r.own, "total": r.total}
        for r in rows
    ]
    body = {**params, "not_forwarded": never_forwarded, "stations": items}
    table = Table(
        "按工作站 by station",
        ["工作站 station", "层级 level", "本级 own", "含下级 with subtree"],
        [[r.name, r.level, r.own, r.total] for r in rows]
        + [["未转办 not forwarded", "", never_forwarded, never_forwarded]],
    )
    return deliver(session, actor, "stations", format, params, body, [table])


def _hot_tables(report: HotTopics) -> list[Table]:
    return [
        Table(
            f"热点 {report.month}",
            ["排名 rank", "类别 category", "件数 count", "占比 share", "上月 previous"],
            [[i, t.category, t.count, t.share, t.previous] for i, t in enumerate(report.top, start=1)],
        ),
        Table(
            "上升 rising",
            ["类别 category", "本月 count", "上月 previous", "增加 increase", "增幅 growth"],
            [[t.category, t.count, t.previous, t.increase, t.growth] for t in report.rising],
        ),
        Table(
            "典型问题 typical questions",
            ["类别 category", "问题 question"],
            [[category, text] for category, texts in report.typical.items() for text in texts],
        ),
    ]


@router.get("/hot-topics", summary="Monthly hot-topic report: top categories, rising ones, typical questions")
def hot_topics_report(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    month: Month,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    format: Format = "json",
) -> Response:
    report = hot_topics(session, date.fromisoformat(f"{month}-01"), context.policy.tz, limit)
    body = {
        "month": report.month,
        "total": report.total,
        "previous_total": report.previous_total,
        "unclassified": report.unclassified,
        "top": [vars(t) for t in report.top],
        "rising": [vars(t) for t in report.rising],
        "typical": report.typical,
    }
    return deliver(
        session, actor, "hot-topics", format, {"month": month, "limit": limit}, body, _hot_tables(report), audit=True
    )


@router.get("/exports", response_model=list[ExportOut], summary="Who downloaded which report, newest first")
def export_log(
    _actor: Supervising, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "at": e.at,
            "user_id": e.user_id,
            "username": e.user.username,
            "report": e.report,
            "format": e.format,
            "params": e.params,
            "rows": e.rows,
        }
        for e in exports(session, limit)
    ]
