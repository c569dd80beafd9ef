"""Demo mode only: place one SIMULATED call with a course fixed in advance (browser tests, training).

Admins and supervisors ask; the bridge's simulator plays the call (hotline.ami.sim_traffic
`DemoTraffic.scripted_call`), and the IVR session it would have had is written as the IVR would, so
the lawyer's screen-pop shows the menu choices. With a real Asterisk this endpoint refuses.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, StringConstraints

from hotline.api.deps import ContextDep, SessionDep, Supervising
from hotline.api.errors import BRIDGE_RESPONSES, Conflict, bridge_failed
from hotline.api.schemas import Body, PhoneNumber
from hotline.bridge_client import BridgeClient, BridgeError
from storage.tables import IvrSession
from ticketing.domain.roles import mask_phone

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/demo", tags=["demo (simulated)"])


class IvrStep(Body):
    node: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
    key: Annotated[str, StringConstraints(pattern=r"^[0-9*#]{0,4}$")] = ""
    seconds: float = Field(2.0, ge=0, le=600)


class ScriptedCall(Body):
    caller_number: PhoneNumber
    queue: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    wait_s: float = Field(5.0, ge=0.5, le=600, description="seconds in the queue before it is answered")
    talk_s: float = Field(10.0, ge=0.5, le=3600)
    interface: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+/[A-Za-z0-9_.-]{1,40}$")] | None = None
    ivr_path: list[IvrStep] = Field(default_factory=list, max_length=20)
    flags: list[Annotated[str, StringConstraints(pattern=r"^[a-z_:]{1,40}$")]] = Field(default_factory=list)


@router.post(
    "/calls",
    status_code=202,
    summary="SIMULATED: place one scripted call (demo mode only)",
    responses={**BRIDGE_RESPONSES, 409: {"description": "not in demo mode: a real Asterisk is connected"}},
)
def place_call(body: ScriptedCall, actor: Supervising, session: SessionDep, context: ContextDep) -> dict[str, Any]:
    if not context.settings.demo_mode:
        raise Conflict("只有演示模式（模拟电话系统）可以模拟来电 / scripted calls exist only in demo mode")
    params = body.model_dump(include={"caller_number", "queue", "wait_s", "talk_s", "interface"})
    try:
        placed = BridgeClient(context.redis.client).request("demo_call", params)
    except BridgeError as exc:
        raise bridge_failed(exc, "模拟来电失败") from None
    linkedid = str(placed["linkedid"])
    session.add(
        IvrSession(
            uniqueid=linkedid,
            channel="SIMULATED",
            caller_number=body.caller_number,
            started_at=datetime.now(UTC),
            path=[step.model_dump() for step in body.ivr_path],
            exit=f"queue:{body.queue}",
            queue=body.queue,
            language="zh",
            flags=body.flags,
        )
    )
    session.commit()
    logger.info("SIMULATED call %s from %s to %s placed by user %d", linkedid, mask_phone(body.caller_number),
                body.queue, actor.user_id)  # fmt: skip
    return {"simulated": True, **placed}
