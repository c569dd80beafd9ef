"""How routers show domain objects: one function per shape, shared by the routers that show it.

Routers translate requests and call services; they never call each other's handlers. What two
routers show the same way (a ticket, a user, a page of forwarded work) is written once here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.api.periods import local_period
from hotline.api.schemas import TicketDetail, TicketEventOut, UserOut
from hotline.reports.kpi import compute_kpis
from settings.env import Settings
from storage.tables import FollowUpTask, Ticket, TicketEscalation
from ticketing.domain.access import Actor
from ticketing.domain.follow_up import FollowUpSla
from ticketing.domain.lifecycle import TicketStatus, allowed_targets
from ticketing.domain.policy import TicketPolicy
from ticketing.domain.roles import phone_as_seen_by
from ticketing.follow_up import sla_report
from ticketing.forwarding import ForwardedWork, forwarded_work
from ticketing.tickets import get_ticket

Granularity = Literal["hour", "day", "month", "all"]


def ticket_out(ticket: Ticket, actor: Actor) -> dict[str, object]:
    status = TicketStatus(ticket.status)
    number = ticket.caller_number
    return {
        "code": ticket.code,
        "channel": ticket.channel,
        "status": status,
        "status_label": status.label,
        "caller_number": phone_as_seen_by(actor.role, number),
        "caller_name": ticket.caller_name,
        "description": ticket.description,
        "transcript": ticket.transcript,
        "category": ticket.category,
        "subcategory": ticket.subcategory,
        "service_line": ticket.service_line,
        "priority": ticket.priority,
        "flags": ticket.flags,
        "station_id": ticket.station_id,
        "station_name": ticket.station.name if ticket.station else None,
        "accept_due_at": ticket.accept_due_at,
        "finish_due_at": ticket.finish_due_at,
        "assigned_lawyer_id": ticket.assigned_lawyer_id,
        "created_by_id": ticket.created_by_id,
        "result": ticket.result,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "allowed_next": allowed_targets(status, actor.role),
    }


def ticket_detail(ticket: Ticket, actor: Actor, callback_due: date | None) -> TicketDetail:
    return TicketDetail(
        **ticket_out(ticket, actor),  # type: ignore[arg-type]
        events=[TicketEventOut.model_validate(e, from_attributes=True) for e in ticket.events],
        call_linkedids=[c.linkedid for c in ticket.calls],
        callback_due=callback_due,
    )


def read_ticket(session: Session, actor: Actor, code: str) -> TicketDetail:
    """One ticket with its history and its follow-up's due date, as GET /api/tickets/{code} shows it."""
    ticket = get_ticket(session, actor, code)
    due = session.scalar(
        select(FollowUpTask.due_date).where(FollowUpTask.ticket_id == ticket.id).order_by(FollowUpTask.id.desc())
    )
    return ticket_detail(ticket, actor, due)


def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


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


def work_page(actor: Actor, session: Session, overdue_only: bool, page: int, page_size: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    total, rows = forwarded_work(session, actor, now, overdue_only=overdue_only, page=page, page_size=page_size)
    return {"total": total, "page": page, "page_size": page_size, "items": [_work_out(w, actor, now) for w in rows]}


def sla_out(sla: FollowUpSla) -> dict[str, Any]:
    return {
        "rate": sla.rate,
        "closed": sla.closed,
        "on_time": sla.on_time,
        "late": sla.late,
        "open_in_time": sla.open_in_time,
        "open_overdue": sla.open_overdue,
    }


def kpi_report(
    session: Session,
    settings: Settings,
    start: date | None,
    end: date | None,
    queue: str | None,
    granularity: Granularity,
    by_queue: bool,
    threshold: int | None,
) -> dict[str, Any]:
    """Queue KPIs for local days [start, end], as GET /api/kpi shows them and the dashboard downloads them."""
    tz = ZoneInfo(settings.timezone)
    begin, finish = local_period(start, end, tz)
    threshold_s = threshold or settings.sl_threshold_seconds
    rows = compute_kpis(
        session,
        begin,
        finish,
        threshold_s=threshold_s,
        tz=tz,
        granularity=granularity,
        queue=queue,
        by_queue=by_queue,
        rollup_threshold_s=settings.sl_threshold_seconds,
    )
    return {
        "start": begin.isoformat(),
        "end": finish.isoformat(),
        "threshold_s": threshold_s,
        "granularity": granularity,
        "rows": [row.report() for row in rows],
    }


def follow_up_sla(
    session: Session, policy: TicketPolicy, start: date | None, end: date | None, working_days: int | None
) -> dict[str, Any]:
    """回访 SLA for local days [start, end], overall and per lawyer (GET /api/callbacks/sla and its download)."""
    begin, finish = local_period(start, end, policy.tz)
    days = working_days or policy.callback_days
    today = datetime.now(policy.tz).date()
    overall, per_lawyer = sla_report(session, begin, finish, policy, days, today)
    return {
        "start": begin.isoformat(),
        "end": finish.isoformat(),
        "working_days": days,
        "definition": "completed (reached, or failed attempts on 3 different days) within N working days of closing",
        **sla_out(overall),
        "by_lawyer": [
            {"lawyer_id": lawyer, **sla_out(figures)}
            for lawyer, figures in sorted(per_lawyer.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
    }
