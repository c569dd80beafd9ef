"""The duty lawyer's console: who am I and how is my phone, on/off duty and pauses, screen-pop, transfer.

On and off duty (上线 / 下线) and pauses go to Asterisk through the bridge as QueuePause on every
queue the lawyer is in, never as QueueRemove: going off duty is a pause with the reason 下线, so
the lawyer stays a member of the rostered queues. The roster reconciler (hotline/rosters/) adds
members and never unpauses, so it cannot put a lawyer who went off duty back on the line; when the
shift ends it removes the membership as usual, and the next shift starts on duty. Going on duty
before the reconciler's minute has seated a new shift asks the bridge to reconcile first.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import redis
from fastapi import APIRouter, Path
from pydantic import StringConstraints
from sqlalchemy import func, select

from hotline.api.deps import ContextDep, CurrentUser, Desk, Lawyer, SessionDep, routed_bridge
from hotline.api.errors import BRIDGE_RESPONSES, ApiError, BridgeFailed, Forbidden, ServiceUnavailable, bridge_failed
from hotline.api.schemas import Body
from hotline.bridge_client import BridgeError, BridgeRefused
from hotline.consoles.access import put_through_to
from hotline.consoles.screenpop import screen_pop
from hotline.dialing import check_dialable
from hotline.labels import AGENT_STATES, GREEN_GROUPS
from hotline.live.nodes import find_agent, find_call
from hotline.rosters.model import lawyer_node
from hotline.rosters.service import lawyers_day
from storage.tables import Call, TicketDraft, User
from ticketing.domain.errors import NotFound
from ticketing.domain.follow_up import FollowUpOutcome, Satisfaction
from ticketing.domain.roles import Role

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/console", tags=["console"])

Linkedid = Annotated[str, Path(pattern=r"^[0-9A-Za-z._-]{1,64}$")]

#: Reasons offered for a pause; the lawyer may type another (up to 20 characters).
PAUSE_REASONS = ("休息", "培训", "整理工单", "会议", "用餐")
OFF_DUTY_REASON = AGENT_STATES["off_duty"]
TRANSFER_TARGETS = ({"exten": "12345", "label": "12345 政务服务便民热线"},)


def _agent(client: redis.Redis, interface: str | None) -> dict[str, Any] | None:
    if not interface:
        return None
    found = find_agent(client, interface)
    return None if found is None else found[1]


def duty_state(agent: dict[str, Any] | None) -> str:
    """off_duty (not a member, or paused as 下线), paused, or the phone's state when on duty."""
    if agent is None:
        return "off_duty"
    queues = agent.get("queues") or {}
    if queues and all(q.get("paused") for q in queues.values()):
        reasons = {q.get("reason") for q in queues.values()}
        return "off_duty" if reasons == {OFF_DUTY_REASON} else "paused"
    return str(agent.get("state") or "available")


def _softphone(context: Any, user: User) -> dict[str, Any]:
    settings = context.settings
    endpoint = (user.interface or "").partition("/")[2]
    configured = bool(settings.sip_ws_url and settings.sip_domain and endpoint)
    # One WebSocket per node (nginx: /ws/NODE): `{node}` in the URL is the node the phone registers on.
    ws_url = settings.sip_ws_url and settings.sip_ws_url.replace("{node}", lawyer_node(user.node, settings.home_node))
    return {
        "configured": configured,
        "node": lawyer_node(user.node, settings.home_node),
        "ws_url": ws_url,
        "uri": f"sip:{endpoint}@{settings.sip_domain}" if configured else None,
        "username": endpoint or None,
        "display_name": user.display_name,
        "simulated": settings.demo_mode,
    }


@router.get("/options", summary="Labels the consoles show: queues, pause reasons, green channels, call-back outcomes")
def options(_actor: Desk, context: ContextDep) -> dict[str, Any]:
    return {
        "queues": {q.name: q.label for q in context.config.service_hours.queues},
        "pause_reasons": list(PAUSE_REASONS),
        "green_channels": GREEN_GROUPS,
        "callback_outcomes": {o.value: o.label for o in FollowUpOutcome},
        "satisfaction": {s.value: s.label for s in Satisfaction},
        "simulated": context.settings.demo_mode,
    }


@router.get("/me", summary="The lawyer's account, shift today, duty state and softphone settings")
def me(_actor: Lawyer, user: CurrentUser, session: SessionDep, context: ContextDep) -> dict[str, Any]:
    live_ok = True
    try:
        agent = _agent(context.redis.client, user.interface)
    except redis.RedisError:
        agent, live_ok = None, False
    return {
        "user": {"id": user.id, "username": user.username, "display_name": user.display_name},
        "interface": user.interface,
        "shift": lawyers_day(session, user.id, ZoneInfo(context.settings.timezone)),
        "agent": agent,
        # With Redis down the state is not known: "unknown", never a misleading 下线.
        "duty": duty_state(agent) if live_ok else "unknown",
        "pause_reasons": list(PAUSE_REASONS),
        "transfer_targets": list(TRANSFER_TARGETS),
        "softphone": _softphone(context, user),
        "simulated": context.settings.demo_mode,
    }


class StateChange(Body):
    state: Literal["on_duty", "paused", "off_duty"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^[^\r\n]*$")] | None = None


@router.post(
    "/state",
    summary="Go on duty (上线), pause with a reason (暂停) or go off duty (下线)",
    responses=BRIDGE_RESPONSES,
)
def change_state(
    body: StateChange, _actor: Lawyer, user: CurrentUser, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    if not user.interface:
        raise ApiError(
            "您的账号未配置话机，请联系管理员 / your account has no phone interface (users.interface); ask an admin",
            user_id=user.id,
        )
    bridge = routed_bridge(context)
    try:
        if body.state == "on_duty":
            if _agent(context.redis.client, user.interface) is None:
                if not lawyers_day(session, user.id, ZoneInfo(context.settings.timezone))["on_duty"]:
                    raise ApiError(
                        "当前不在您的值班时段，无法上线 / you have no shift now, so no queue to take calls from",
                        interface=user.interface,
                    )
                bridge.reconcile_roster(timeout=8)  # the shift began since the reconciler's last pass
            bridge.queue_pause(user.interface, False)
        elif body.state == "paused":
            reason = body.reason or PAUSE_REASONS[0]
            if reason == OFF_DUTY_REASON:
                raise ApiError("下线请用下线按钮 / use state off_duty to go off duty")
            bridge.queue_pause(user.interface, True, reason)
        else:
            bridge.queue_pause(user.interface, True, OFF_DUTY_REASON)
    except BridgeError as exc:
        if isinstance(exc, BridgeRefused) and body.state != "off_duty":
            raise BridgeFailed(
                409,
                "not_in_queue",
                f"您不在任何队列中（不在值班时段或尚未排班） / not a member of any queue: {exc.reason}",
            ) from None
        raise bridge_failed(exc, "切换状态失败") from None
    logger.info("lawyer %d (%s) -> %s %s", user.id, user.interface, body.state, body.reason or "")
    agent = _agent(context.redis.client, user.interface)
    return {"requested": body.state, "agent": agent, "duty": duty_state(agent)}


@router.get("/calls/{linkedid}", summary="Screen-pop: the caller, their history, IVR choices and time waited")
def call_screen_pop(
    linkedid: Linkedid, actor: Desk, user: CurrentUser, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    try:
        found = find_call(context.redis.client, linkedid)
    except redis.RedisError as exc:
        raise ServiceUnavailable("实时状态不可用 / live state unavailable (Redis)", error=str(exc)) from None
    live_call = found[1] if found else None
    row = session.scalar(select(Call).where(Call.linkedid == linkedid))
    if live_call is None and row is None:
        raise NotFound(f"通话不存在 / no call {linkedid}", linkedid=linkedid)
    if actor.role is Role.LAWYER and not _lawyers_call(user, live_call, row):
        raise Forbidden("这不是您接听的通话 / this call was not put through to you", linkedid=linkedid)
    body = screen_pop(session, actor, linkedid, live_call, row, time.time())
    session.commit()  # the view audit
    return body


def _lawyers_call(user: User, live_call: dict[str, Any] | None, row: Call | None) -> bool:
    if live_call is not None and user.interface and live_call.get("agent_interface") == user.interface:
        return True
    return row is not None and put_through_to(row, user)


class TransferRequest(Body):
    exten: Annotated[str, StringConstraints(pattern=r"^[0-9*#+]{1,20}$")]


@router.post(
    "/calls/{linkedid}/transfer",
    summary="Blind-transfer the caller (e.g. to 12345) through the bridge",
    responses=BRIDGE_RESPONSES,
)
def transfer(
    linkedid: Linkedid, body: TransferRequest, actor: Desk, user: CurrentUser, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    found = find_call(context.redis.client, linkedid)
    live_call = found[1] if found else None
    if live_call is None:
        raise NotFound(f"通话不存在或已结束 / no call {linkedid} in progress", linkedid=linkedid)
    if actor.role is Role.LAWYER and not _lawyers_call(user, live_call, None):
        raise Forbidden("这不是您接听的通话 / this call was not put through to you", linkedid=linkedid)
    check_dialable(body.exten, context.settings.transfer_pattern, "transfer target", exten=body.exten)
    try:
        result = routed_bridge(context).transfer(linkedid, body.exten)
    except BridgeError as exc:
        raise bridge_failed(exc, "转接失败") from None
    logger.info("call %s transferred to %s by user %d at %s", linkedid, body.exten, user.id, datetime.now(UTC))
    return {"linkedid": linkedid, **result}


# ------------------------------------------------------------------------------------- drafts
DraftKey = Annotated[str, Path(pattern=r"^[0-9A-Za-z._-]{1,64}$")]
MAX_DRAFTS = 20
MAX_DRAFT_BYTES = 40_000


class DraftBody(Body):
    #: The form's fields as the console keeps them (description, category, flags, station, ...).
    data: dict[str, Any]


def _draft_out(draft: TicketDraft) -> dict[str, Any]:
    return {"key": draft.key, "data": draft.data, "created_at": draft.created_at, "updated_at": draft.updated_at}


@router.get("/drafts", summary="My unsaved ticket forms, one per call (or per ticket without a call), newest first")
def drafts(_actor: Lawyer, user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    found = session.scalars(
        select(TicketDraft).where(TicketDraft.user_id == user.id).order_by(TicketDraft.updated_at.desc())
    )
    return [_draft_out(d) for d in found]


@router.put("/drafts/{key}", summary="Keep a ticket form as it is now (the next call's screen-pop never touches it)")
def save_draft(
    key: DraftKey, body: DraftBody, _actor: Lawyer, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    size = len(json.dumps(body.data, ensure_ascii=False).encode())
    if size > MAX_DRAFT_BYTES:
        raise ApiError(f"草稿过大 / draft over {MAX_DRAFT_BYTES} bytes", size=size, limit=MAX_DRAFT_BYTES)
    now = datetime.now(UTC)
    draft = session.scalar(select(TicketDraft).where(TicketDraft.user_id == user.id, TicketDraft.key == key))
    if draft is None:
        count = session.scalar(select(func.count()).where(TicketDraft.user_id == user.id)) or 0
        if count >= MAX_DRAFTS:
            raise ApiError(
                f"未完成的草稿已有 {MAX_DRAFTS} 份，请先提交或删除 / {MAX_DRAFTS} open drafts already", limit=MAX_DRAFTS
            )
        draft = TicketDraft(user_id=user.id, key=key, created_at=now)
        session.add(draft)
    draft.data = body.data
    draft.updated_at = now
    session.commit()
    return _draft_out(draft)


@router.delete("/drafts/{key}", status_code=204, summary="Drop a draft (its ticket was submitted, or it is not wanted)")
def drop_draft(key: DraftKey, _actor: Lawyer, user: CurrentUser, session: SessionDep) -> None:
    draft = session.scalar(select(TicketDraft).where(TicketDraft.user_id == user.id, TicketDraft.key == key))
    if draft is not None:
        session.delete(draft)
        session.commit()
