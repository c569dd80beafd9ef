"""Call-back (回访) handlers: who sees which task, recording attempts, and the call-back SLA.

Recording the attempt, settling the task and moving the ticket (已回访, or reopened for review when
the citizen is dissatisfied) happen in one transaction; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from storage.dialect import local_day
from storage.tables import Call, CallbackAttempt, FollowUpTask, Ticket
from ticketing.domain.access import Actor
from ticketing.domain.errors import NotFound, TransitionNotPermitted
from ticketing.domain.follow_up import (
    Attempt,
    Closing,
    FollowUpOutcome,
    FollowUpSla,
    FollowUpStatus,
    Satisfaction,
    callback_sla,
    check_attempt,
    failed_days,
    settle,
)
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.policy import TicketPolicy
from ticketing.domain.roles import Role
from ticketing.statistics import as_date
from ticketing.tickets import transition_ticket

logger = logging.getLogger(__name__)

CALLING_ROLES = frozenset({Role.LAWYER, Role.SUPERVISOR, Role.ADMIN})


class TaskState(StrEnum):
    """Filters of the task list: open ones due today or later, open ones past due, finished ones."""

    DUE = "due"
    OVERDUE = "overdue"
    OPEN = "open"
    DONE = "done"


def visible_tasks(actor: Actor) -> Select[tuple[FollowUpTask]]:
    """Lawyers see their own tasks and unassigned ones; supervisors and admins all; others none."""
    query = select(FollowUpTask)
    if actor.sees_everything:
        return query
    if actor.role is Role.LAWYER:
        return query.where(
            or_(FollowUpTask.assigned_lawyer_id.is_(None), FollowUpTask.assigned_lawyer_id == actor.user_id)
        )
    return query.where(FollowUpTask.id.is_(None))


def task_query(actor: Actor, state: TaskState | None, today: date, mine: bool = False) -> Select[tuple[FollowUpTask]]:
    query = visible_tasks(actor).options(selectinload(FollowUpTask.ticket), selectinload(FollowUpTask.attempts))
    pending = FollowUpTask.status == FollowUpStatus.PENDING.value
    if state is TaskState.DUE:
        query = query.where(pending, FollowUpTask.due_date >= today)
    elif state is TaskState.OVERDUE:
        query = query.where(pending, FollowUpTask.due_date < today)
    elif state is TaskState.OPEN:
        query = query.where(pending)
    elif state is TaskState.DONE:
        query = query.where(~pending)
    if mine:
        query = query.where(FollowUpTask.assigned_lawyer_id == actor.user_id)
    return query.order_by(FollowUpTask.due_date, FollowUpTask.id)


def get_task(session: Session, actor: Actor, task_id: int, *, for_update: bool = False) -> FollowUpTask:
    query = visible_tasks(actor).where(FollowUpTask.id == task_id).options(selectinload(FollowUpTask.ticket))
    if for_update:
        query = query.with_for_update()
    task = session.scalar(query)
    if task is None:
        raise NotFound(f"回访任务不存在 / no call-back task {task_id}", task_id=task_id)
    return task


@dataclass(frozen=True)
class NewAttempt:
    outcome: FollowUpOutcome
    satisfaction: Satisfaction | None = None
    comment: str | None = None
    linkedid: str | None = None


def record_attempt(
    session: Session, actor: Actor, task: FollowUpTask, new: NewAttempt, policy: TicketPolicy, now: datetime
) -> CallbackAttempt:
    """Record one call to the citizen and settle the task and the ticket from all attempts so far."""
    if actor.role not in CALLING_ROLES:
        raise TransitionNotPermitted(
            f"角色「{actor.role.label}」不能回访 / role {actor.role} may not make call-backs",
            action="callback",
            role=actor.role.value,
            roles=sorted(r.value for r in CALLING_ROLES),
        )
    check_attempt(FollowUpStatus(task.status), new.outcome, new.satisfaction)
    call_id = None
    if new.linkedid:
        call_id = session.scalar(select(Call.id).where(Call.linkedid == new.linkedid))
    attempt = CallbackAttempt(
        task=task,
        at=now,
        outcome=new.outcome.value,
        lawyer_id=actor.user_id,
        call_id=call_id,
        linkedid=new.linkedid,
        note=new.comment,
    )
    session.add(attempt)
    if task.assigned_lawyer_id is None and actor.role is Role.LAWYER:
        task.assigned_lawyer_id = actor.user_id
    task.last_attempt_at = now  # bumps the task's version: of two racing attempts one loses
    history = [Attempt(policy.local_date(a.at), FollowUpOutcome(a.outcome)) for a in task.attempts]
    status = settle(history)
    task.status = status.value
    if status is not FollowUpStatus.PENDING:
        task.completed_at = now
        task.satisfaction = new.satisfaction.value if new.satisfaction else None
        task.comment = new.comment
        _settle_ticket(session, actor, task, status, new, policy, now)
    logger.info(
        "ticket %s call-back task %d: %s by user %s (task %s, failed days %d)",
        task.ticket.code,
        task.id,
        new.outcome,
        actor.user_id,
        status,
        failed_days(history),
    )
    return attempt


def _settle_ticket(
    session: Session,
    actor: Actor,
    task: FollowUpTask,
    status: FollowUpStatus,
    new: NewAttempt,
    policy: TicketPolicy,
    now: datetime,
) -> None:
    ticket: Ticket = task.ticket
    if status is FollowUpStatus.REACHED and new.satisfaction is not None:
        ticket.satisfaction = new.satisfaction.value
    if ticket.status != TicketStatus.CLOSED.value:
        return  # reopened by a supervisor meanwhile: the call-back is on record, the ticket moves on
    if status is FollowUpStatus.REACHED:
        note = f"回访：{new.satisfaction.label if new.satisfaction else ''}"
    else:
        note = "回访：三次未能联系 / unreachable after attempts on three days"
    transition_ticket(session, actor, ticket, TicketStatus.FOLLOWED_UP, policy, now, note=note)
    if new.satisfaction is Satisfaction.DISSATISFIED:
        transition_ticket(
            session,
            actor,
            ticket,
            TicketStatus.ACCEPTED,
            policy,
            now,
            reason=f"回访不满意，重新打开复核 / dissatisfied call-back: {new.comment or '-'}",
            automatic=True,
        )


def closings(
    session: Session, start: datetime, end: datetime, policy: TicketPolicy
) -> list[tuple[int | None, Closing]]:
    """Closings in [start, end) per (assigned lawyer, local closing day, local completion day), counted
    in SQL; a closing undone by reopening (its task cancelled) does not count."""
    closed_on = local_day(session, FollowUpTask.created_at, policy.tz)
    completed_on = local_day(session, FollowUpTask.completed_at, policy.tz)
    rows = session.execute(
        select(FollowUpTask.assigned_lawyer_id, closed_on, completed_on, func.count())
        .where(
            FollowUpTask.created_at >= start,
            FollowUpTask.created_at < end,
            FollowUpTask.status != FollowUpStatus.CANCELLED.value,
        )
        .group_by(FollowUpTask.assigned_lawyer_id, closed_on, completed_on)
    ).all()
    return [
        (lawyer_id, Closing(as_date(closed), as_date(completed) if completed is not None else None, n))
        for lawyer_id, closed, completed, n in rows
    ]


def sla_report(
    session: Session, start: datetime, end: datetime, policy: TicketPolicy, working_days: int, today: date
) -> tuple[FollowUpSla, dict[int | None, FollowUpSla]]:
    """The call-back SLA of closings in [start, end), overall and per assigned lawyer."""
    rows = closings(session, start, end, policy)
    overall = callback_sla((c for _, c in rows), policy.calendar, working_days, today)
    lawyers = {lawyer for lawyer, _ in rows}
    per_lawyer = {
        lawyer: callback_sla((c for who, c in rows if who == lawyer), policy.calendar, working_days, today)
        for lawyer in lawyers
    }
    return overall, per_lawyer
