"""Duty rosters (值班表): who is on duty, coverage against service hours, and importing a roster file."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Query, UploadFile

from hotline.api.deps import ContextDep, CurrentUser, Desk, QueueName, SessionDep, Supervising, routed_bridge
from hotline.api.errors import ApiError
from hotline.api.periods import Day
from hotline.bridge_client import BridgeError
from hotline.rosters import service
from hotline.rosters.reader import MAX_FILE_BYTES, RosterFileError
from ticketing.domain.roles import Role

router = APIRouter(prefix="/api/rosters", tags=["rosters"])


class InvalidRoster(ApiError):
    status = 422
    error_id = "invalid_roster"


class UnreadableRoster(ApiError):
    status = 422
    error_id = "unreadable_roster"


def _today(context: Any) -> date:
    return datetime.now(ZoneInfo(context.settings.timezone)).date()


@router.get("", summary="Shifts of a day: lawyers see their own, supervisors and admins everyone's")
def shifts_of_day(
    actor: Desk,
    session: SessionDep,
    context: ContextDep,
    day: Annotated[Day | None, Query(alias="date", description="default: today")] = None,
) -> dict[str, Any]:
    day = day or _today(context)
    own = actor.user_id if actor.role is Role.LAWYER else None
    shifts = service.shifts_on(session, day, own)
    return {"date": day.isoformat(), "shifts": [service.shift_dict(s) for s in shifts]}


@router.get("/me/today", summary="The signed-in lawyer's shifts today, and whether one is running now")
def my_day(user: CurrentUser, session: SessionDep, context: ContextDep) -> dict[str, Any]:
    if user.role != Role.LAWYER.value:
        raise ApiError("只有值班律师有值班表 / only lawyers have shifts", role=user.role)
    return service.lawyers_day(session, user.id, ZoneInfo(context.settings.timezone))


@router.get("/coverage", summary="Gaps and overlaps against each queue's service hours, in minutes")
def coverage(
    _actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    queue: QueueName = None,
) -> dict[str, Any]:
    start = start or end or _today(context)
    end = end or start
    try:
        report = service.coverage(session, context.config.service_hours, context.policy.calendar, start, end, queue)
    except ValueError as exc:
        raise ApiError(f"无法统计 / {exc}", start=start.isoformat(), end=end.isoformat()) from None
    return report.as_dict()


@router.post("/import", summary="Import a roster file (CSV or XLSX); every row must be valid")
def import_roster(
    _actor: Supervising,
    user: CurrentUser,
    session: SessionDep,
    context: ContextDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX roster")],
    dry_run: bool = False,
) -> dict[str, Any]:
    name = file.filename or "roster"
    data = file.file.read(MAX_FILE_BYTES + 1)
    now = datetime.now(ZoneInfo(context.settings.timezone))
    try:
        result = service.import_roster(session, data, name, context.config.service_hours, user.username, now, dry_run)
    except RosterFileError as exc:
        session.rollback()
        raise UnreadableRoster(f"无法读取值班表 / {exc}", file=exc.source, reason=exc.reason) from None
    if not result.ok:
        session.rollback()
        raise InvalidRoster(
            f"值班表有 {len(result.errors)} 处错误，未导入 / the roster has {len(result.errors)} error(s);"
            " nothing was imported",
            **result.as_dict(),
        )
    session.commit()
    body = result.as_dict()
    if not dry_run:
        body["membership"] = _reseat(context)
    return body


def _reseat(context: Any) -> dict[str, Any]:
    """Ask the bridge to seat the new roster now; otherwise its next minute's pass will."""
    try:
        return {"updated_now": True, **routed_bridge(context).reconcile_roster(timeout=8)}
    except BridgeError as exc:
        return {"updated_now": False, "reason": f"{exc.reason}; 将在一分钟内生效 / applies within a minute"}
