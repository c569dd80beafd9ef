"""Call-backs (回访): lawyers' task lists, attempts with the citizen's rating, click-to-call, the SLA."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.api.deps import ContextDep, CurrentUser, Desk, DialerDep, PageNumber, PageSize, SessionDep, Supervising
from hotline.api.dialing import originate
from hotline.api.errors import BRIDGE_RESPONSES, BridgeFailed
from hotline.api.periods import Day
from hotline.api.presenters import follow_up_sla, task_out
from hotline.api.schemas import Body, FollowUpSlaReport, FollowUpTaskOut, FollowUpTaskPage, Linkedid, Note
from hotline.bootstrap import Context
from hotline.dialing import check_dialable
from ticketing.domain.access import Actor
from ticketing.domain.errors import AlreadyCompleted
from ticketing.domain.follow_up import FollowUpOutcome, FollowUpStatus, Satisfaction
from ticketing.follow_up import NewAttempt, TaskState, get_task, record_attempt, task_query

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/callbacks", tags=["call-backs"])

TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_BY_LABEL = {s.label: s.value for s in Satisfaction}


def _satisfaction_from_label(value: object) -> object:
    """满意 → satisfied; anything else is left for the enum to accept or refuse (a list, a number: 422)."""
    return _BY_LABEL.get(value, value) if isinstance(value, str) else value


class AttemptCreate(Body):
    outcome: FollowUpOutcome
    #: satisfied / fairly_satisfied / dissatisfied, or 满意 / 基本满意 / 不满意
    satisfaction: Annotated[Satisfaction | None, BeforeValidator(_satisfaction_from_label)] = None
    comment: Note | None = None
    linkedid: Linkedid | None = None


@router.get(
    "/sla",
    response_model=FollowUpSlaReport,
    summary="回访 SLA: share of closings whose call-back was completed within N working days",
)
def sla(
    _actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    working_days: Annotated[int | None, Query(ge=1, le=30, description="N; default from categories.yaml")] = None,
) -> dict[str, Any]:
    return follow_up_sla(session, context.policy, start, end, working_days)


@router.get("", response_model=FollowUpTaskPage, summary="Call-back tasks: due, overdue, open or done")
def list_tasks(
    actor: Desk,
    session: SessionDep,
    context: ContextDep,
    state: TaskState | None = TaskState.OPEN,
    mine: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    today = datetime.now(ZoneInfo(context.settings.timezone)).date()
    query = task_query(actor, state, today, mine)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    tasks = session.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
    return {"total": total, "page": page, "page_size": page_size, "items": [task_out(t, actor, today) for t in tasks]}


@router.get("/{task_id}", response_model=FollowUpTaskOut, summary="One call-back task with its attempts")
def read_task(task_id: TaskId, actor: Desk, session: SessionDep, context: ContextDep) -> dict[str, Any]:
    return _task_view(session, actor, task_id, context)


def _task_view(session: Session, actor: Actor, task_id: int, context: Context) -> dict[str, Any]:
    task = get_task(session, actor, task_id)
    return task_out(task, actor, datetime.now(context.policy.tz).date())


@router.post(
    "/{task_id}/attempts",
    status_code=201,
    response_model=FollowUpTaskOut,
    summary="Record one call-back attempt (and the citizen's satisfaction when reached)",
    responses={409: {"description": "the task is already completed"}},
)
def add_attempt(
    task_id: TaskId, body: AttemptCreate, actor: Desk, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    task = get_task(session, actor, task_id, for_update=True)
    new = NewAttempt(body.outcome, body.satisfaction, body.comment, body.linkedid)
    record_attempt(session, actor, task, new, context.policy, datetime.now(UTC))
    session.commit()
    return _task_view(session, actor, task_id, context)


@router.post(
    "/{task_id}/dial",
    status_code=202,
    summary="Click-to-call: ring the lawyer's phone, then the citizen",
    responses={**BRIDGE_RESPONSES, 409: {"description": "the task is already completed"}},
)
def dial(
    task_id: TaskId,
    actor: Desk,
    user: CurrentUser,
    session: SessionDep,
    dialer: DialerDep,
    context: ContextDep,
) -> dict[str, Any]:
    task = get_task(session, actor, task_id)
    if task.status != FollowUpStatus.PENDING.value:
        status = FollowUpStatus(task.status)
        raise AlreadyCompleted(
            f"回访任务已结束（{status.label}） / the call-back task is already {status}", status=status.value
        )
    if not user.interface:
        raise BridgeFailed(
            422,
            "not_dialable",
            "您的账号未配置话机，请联系管理员 / your account has no phone interface (users.interface); ask an admin",
            user_id=user.id,
        )
    number = task.ticket.caller_number
    if not number:
        raise BridgeFailed(
            422,
            "not_dialable",
            f"工单 {task.ticket.code} 没有来电号码 / the ticket has no caller number",
            task_id=task.id,
        )
    check_dialable(number, context.settings.callback_number_pattern, "call-back number", task_id=task.id)
    variables = {"HOTLINE_CALLBACK_TASK": str(task.id), "HOTLINE_TICKET": task.ticket.code}
    call_id = originate(dialer, user.interface, number, variables, task_id=task.id)
    logger.info("ticket %s call-back task %d: dialling from %s", task.ticket.code, task.id, user.interface)
    return {"task_id": task.id, "ticket_code": task.ticket.code, "call_id": call_id, "interface": user.interface}
