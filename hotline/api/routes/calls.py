"""Call records and queue KPIs."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from hotline.api.deps import ContextDep, CurrentUser, Desk, QueueName, SessionDep, Supervising
from hotline.api.periods import Day, local_period
from hotline.api.presenters import kpi_report
from hotline.api.schemas import KpiReport
from hotline.consoles.access import may_hear, put_through_to
from storage.tables import Call
from ticketing.domain.roles import phone_as_seen_by

router = APIRouter(prefix="/api", tags=["calls"])


@router.get(
    "/kpi", response_model=KpiReport, summary="Queue KPIs (接通率, SL, SL2, ASA, abandon rate, AHT) for a period"
)
def kpi(
    _actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    queue: QueueName = None,
    granularity: Literal["hour", "day", "month", "all"] = "all",
    by_queue: bool = False,
    threshold: Annotated[int | None, Query(ge=1, le=3600, description="SL threshold T in seconds")] = None,
) -> dict[str, Any]:
    return kpi_report(session, context.settings, start, end, queue, granularity, by_queue, threshold)


@router.get("/calls", summary="Call records, newest first")
def calls(
    actor: Desk,
    user: CurrentUser,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    queue: QueueName = None,
    outcome: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    begin, finish = local_period(start, end, ZoneInfo(context.settings.timezone))
    when = func.coalesce(Call.offered_at, Call.started_at)
    query = select(Call).where(when >= begin, when < finish)
    if queue:
        query = query.where(Call.queue == queue)
    if outcome:
        query = query.where(Call.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(when.desc(), Call.id.desc()).offset((page - 1) * page_size).limit(page_size))
    items = [
        {
            "linkedid": c.linkedid,
            "direction": c.direction,
            "caller_number": phone_as_seen_by(actor.role, c.caller_number, own=put_through_to(c, user)),
            "queue": c.queue,
            "agent_interface": c.agent_interface,
            "lawyer_id": c.lawyer_id,
            "started_at": c.started_at,
            "offered_at": c.offered_at,
            "answered_at": c.answered_at,
            "ended_at": c.ended_at,
            "wait_seconds": c.wait_seconds,
            "talk_seconds": c.talk_seconds,
            "outcome": c.outcome,
            "in_hours": c.in_hours,
            "ivr_path": c.ivr_path,
            # Never the files' paths: how many there are, each played through GET /api/calls/{id}/recordings/{n}.
            "call_id": c.id,
            "recordings": len(c.recording_paths) if may_hear(actor.role, c, user) else 0,
            "reconciled_by": c.reconciled_by,
            "end_seen": c.end_seen,
        }
        for c in rows
    ]
    return {"total": total, "page": page, "page_size": page_size, "items": items}
