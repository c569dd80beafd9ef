"""Forwarding (转办) and supervision (督办): triage list, stations' inbox, overdue list, progress reports.

Forward, accept, return and finish are status changes: POST /api/tickets/{code}/transitions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.api.deps import ContextDep, SessionDep, require_roles
from hotline.api.routes.tickets import DeskActor, TicketCode, read, ticket_out
from hotline.api.schemas import Body, RequiredNote, TicketDetail
from storage.tables import TicketEscalation
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role
from ticketing.forwarding import ForwardedWork, forwarded_work, report_progress, triage_item, triage_query
from ticketing.tickets import get_ticket

router = APIRouter(tags=["forwarding"])

StationSide = Annotated[Actor, Depends(require_roles(Role.STATION_STAFF, Role.SUPERVISOR, Role.ADMIN))]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


class ProgressReport(Body):
    note: RequiredNote


@router.get("/api/triage", summary="Tickets waiting for a person to route them (returned, reopened, unsure, unrouted)")
def triage(actor: DeskActor, session: SessionDep, page: PageNumber = 1, page_size: PageSize = 50) -> dict[str, Any]:
    query = triage_query(actor)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    tickets = session.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
    items = []
    for ticket in tickets:
        item = triage_item(ticket)
        items.append(
            {
                **ticket_out(ticket, actor),
                "triage_reason": item.reason,
                "triage_reason_label": item.reason.label,
                "triage_note": item.note,
                **item.data,
            }
        )
    return {"total": total, "page": page, "page_size": page_size, "items": items}


def _escalation_out(escalation: TicketEscalation) -> dict[str, Any]:
    return {
        "id": escalation.id,
        "kind": escalation.kind,
        "deadline": escalation.deadline,
        "at": escalation.at,
        "station_id": escalation.station_id,
        "escalated_to_id": escalation.escalated_to_id,
        "escalated_to": escalation.escalated_to.name,
        "levels_up": escalation.levels_up,
    }


def _work_out(work: ForwardedWork, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        **ticket_out(work.ticket, actor),
        "overdue": [
            {
                "kind": lapse.kind,
                "label": lapse.kind.label,
                "deadline": lapse.deadline,
                "overdue_hours": round((now - lapse.deadline).total_seconds() / 3600, 1),
            }
            for lapse in work.lapses
        ],
        "escalations": [_escalation_out(e) for e in work.escalations],
    }


def _work_page(actor: Actor, session: Session, overdue_only: bool, page: int, page_size: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    total, rows = forwarded_work(session, actor, now, overdue_only=overdue_only, page=page, page_size=page_size)
    return {"total": total, "page": page, "page_size": page_size, "items": [_work_out(w, actor, now) for w in rows]}


@router.get("/api/forwarding/inbox", summary="Forwarded tickets still open, the nearest deadline first")
def inbox(actor: StationSide, session: SessionDep, page: PageNumber = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return _work_page(actor, session, False, page, page_size)


@router.get(
    "/api/supervision/overdue",
    summary="督办: forwarded tickets past their accept or finish deadline, with their escalations",
)
def overdue_list(
    actor: StationSide, session: SessionDep, page: PageNumber = 1, page_size: PageSize = 50
) -> dict[str, Any]:
    return _work_page(actor, session, True, page, page_size)


@router.post(
    "/api/tickets/{code}/progress",
    response_model=TicketDetail,
    summary="Station staff report progress (the first report on a received ticket starts the work)",
)
def progress(
    code: TicketCode, body: ProgressReport, actor: StationSide, session: SessionDep, context: ContextDep
) -> TicketDetail:
    ticket = get_ticket(session, actor, code, for_update=True)
    report_progress(session, actor, ticket, body.note, context.policy, datetime.now(UTC))
    session.commit()
    return read(code, actor, session)
