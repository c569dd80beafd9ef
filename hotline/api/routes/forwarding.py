"""Forwarding (转办) and supervision (督办): triage list, stations' inbox, overdue list, progress reports.

Forward, accept, return and finish are status changes: POST /api/tickets/{code}/transitions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from hotline.api.deps import ContextDep, Desk, PageNumber, PageSize, SessionDep, StationSide, TicketCode
from hotline.api.presenters import read_ticket, ticket_out, work_page
from hotline.api.schemas import Body, RequiredNote, TicketDetail, WorkPage
from ticketing.forwarding import report_progress, triage_item, triage_query
from ticketing.tickets import get_ticket

router = APIRouter(tags=["forwarding"])


class ProgressReport(Body):
    note: RequiredNote


@router.get("/api/triage", summary="Tickets waiting for a person to route them (returned, reopened, unsure, unrouted)")
def triage(actor: Desk, session: SessionDep, page: PageNumber = 1, page_size: PageSize = 50) -> dict[str, Any]:
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


@router.get(
    "/api/forwarding/inbox", response_model=WorkPage, summary="Forwarded tickets still open, the nearest deadline first"
)
def inbox(actor: StationSide, session: SessionDep, page: PageNumber = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return work_page(actor, session, False, page, page_size)


@router.get(
    "/api/supervision/overdue",
    response_model=WorkPage,
    summary="督办: forwarded tickets past their accept or finish deadline, with their escalations",
)
def overdue_list(
    actor: StationSide, session: SessionDep, page: PageNumber = 1, page_size: PageSize = 50
) -> dict[str, Any]:
    return work_page(actor, session, True, page, page_size)


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
    return read_ticket(session, actor, code)
