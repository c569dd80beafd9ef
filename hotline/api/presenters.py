"""How routers show domain objects: one function per shape, shared by the routers that show it.

Routers translate requests and call services; they never call each other's handlers. What two
routers show the same way (a ticket, a user, a page of forwarded work) is written once here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hotline.api.periods import local_period
from hotline.api.schemas import RecordingOut, TicketDetail, TicketEventOut, UserOut
from hotline.consoles.access import may_hear
from hotline.reports.kpi import compute_kpis
from settings.env import Settings
from storage.tables import Call, CallbackAttempt, FollowUpTask, Ticket, TicketEscalation, User
from ticketing.domain.access import Actor
from ticketing.domain.follow_up import FollowUpOutcome, FollowUpSla, FollowUpStatus, Satisfaction
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


def ticket_detail(
    ticket: Ticket,
    actor: Actor,
    callback_due: date | None,
    callbacks: list[dict[str, Any]] | None = None,
    recordings: tuple[list[RecordingOut], int] = ([], 0),
) -> TicketDetail:
    return TicketDetail(
        **ticket_out(ticket, actor),  # type: ignore[arg-type]
        events=[
            TicketEventOut.model_validate(e, from_attributes=True).model_copy(
                update={"actor_name": e.actor.display_name if e.actor is not None else None}
            )
            for e in ticket.events
        ],
        call_linkedids=[c.linkedid for c in ticket.calls],
        callback_due=callback_due,
        callbacks=callbacks or [],  # type: ignore[arg-type]
        recordings=recordings[0],
        recordings_withheld=recordings[1],
    )


def read_ticket(session: Session, actor: Actor, code: str, tz: tzinfo = UTC) -> TicketDetail:
    """One ticket with its history, its recordings that `actor` may hear and its call-backs with every
    attempt, as GET /api/tickets/{code} shows it (`tz`: the hotline's, for which call-backs are overdue)."""
    ticket = get_ticket(session, actor, code)
    tasks = session.scalars(
        select(FollowUpTask)
        .where(FollowUpTask.ticket_id == ticket.id)
        .options(selectinload(FollowUpTask.attempts).selectinload(CallbackAttempt.lawyer))
        .order_by(FollowUpTask.id)
    ).all()
    today = datetime.now(tz).date()
    callbacks = [task_out(task, actor, today) for task in tasks]
    due = tasks[-1].due_date if tasks else None
    called_back = [a.call_id for t in tasks for a in t.attempts if a.call_id is not None]
    calls = list(ticket.calls) + [
        c for c in session.scalars(select(Call).where(Call.id.in_(called_back))) if c not in ticket.calls
    ]
    return ticket_detail(ticket, actor, due, callbacks, _recordings(session, actor, calls))


def recording_url(call_id: int, index: int) -> str:
    """Where a recording plays (hotline.api.routes.recordings); the file's path is never shown."""
    return f"/api/calls/{call_id}/recordings/{index}"


def _recordings(session: Session, actor: Actor, calls: list[Call]) -> tuple[list[RecordingOut], int]:
    """The calls' recordings `actor` may hear, and how many others there are."""
    user = session.get(User, actor.user_id)
    heard: list[RecordingOut] = []
    withheld = 0
    for call in sorted(calls, key=lambda c: (c.started_at is None, c.started_at, c.id)):
        paths = call.recording_paths or []
        if user is None or not may_hear(actor.role, call, user):
            withheld += len(paths)
            continue
        heard += [
            RecordingOut(
                call_id=call.id,
                linkedid=call.linkedid,
                index=i,
                url=recording_url(call.id, i),
                direction=call.direction,
                started_at=call.started_at,
                talk_seconds=call.talk_seconds,
                lawyer_name=call.lawyer.display_name if call.lawyer else None,
            )
            for i in range(len(paths))
        ]
    return heard, withheld


def task_out(task: FollowUpTask, actor: Actor, today: date) -> dict[str, Any]:
    """A call-back task with every attempt (who, when, outcome, notes), as every view shows it."""
    status = FollowUpStatus(task.status)
    ticket = task.ticket
    return {
        "id": task.id,
        "ticket_code": ticket.code,
        "ticket_status": ticket.status,
        "category": ticket.category,
        "caller_name": ticket.caller_name,
        "caller_number": phone_as_seen_by(actor.role, ticket.caller_number),
        "result": ticket.result,
        "due_date": task.due_date,
        "overdue": status is FollowUpStatus.PENDING and task.due_date < today,
        "status": status,
        "status_label": status.label,
        "assigned_lawyer_id": task.assigned_lawyer_id,
        "assigned_lawyer_name": task.assigned_lawyer.display_name if task.assigned_lawyer else None,
        "satisfaction": task.satisfaction,
        "satisfaction_label": Satisfaction(task.satisfaction).label if task.satisfaction else None,
        "comment": task.comment,
        "created_at": task.created_at,
        "completed_at": task.completed_at,
        "attempts": [
            {
                "at": a.at,
                "outcome": a.outcome,
                "outcome_label": FollowUpOutcome(a.outcome).label,
                "lawyer_id": a.lawyer_id,
                "lawyer_name": a.lawyer.display_name if a.lawyer else None,
                "linkedid": a.linkedid,
                "call_id": a.call_id,
                "note": a.note,
            }
            for a in task.attempts
        ],
    }


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
