"""Live state from the bridge: callers waiting per queue, lawyers by state, calls in progress."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends

from hotline.api.deps import ContextDep, require_roles
from hotline.api.errors import ServiceUnavailable
from hotline.bridge_client import BridgeClient
from hotline.live.publisher import AGENTS_KEY, CALLS_KEY, META_KEY, QUEUES_KEY
from ticketing.domain.access import Actor
from ticketing.domain.roles import ROLES_SEEING_FULL_NUMBERS, Role, mask_phone

router = APIRouter(prefix="/api", tags=["live"])
Desk = Annotated[Actor, Depends(require_roles(Role.LAWYER, Role.SUPERVISOR, Role.ADMIN))]


def _values(client: redis.Redis, key: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in client.hvals(key)]


@router.get("/live", summary="Live queues, lawyers and calls (simulated in demo mode)")
def live(context: ContextDep, actor: Desk) -> dict[str, Any]:
    client = context.redis.client
    try:
        meta = {k.decode(): v.decode() for k, v in client.hgetall(META_KEY).items()}
        queues = sorted(_values(client, QUEUES_KEY), key=lambda q: q["queue"])
        agents = sorted(_values(client, AGENTS_KEY), key=lambda a: a["interface"])
        calls = sorted(_values(client, CALLS_KEY), key=lambda c: c.get("started_at") or 0)
    except redis.RedisError as exc:
        raise ServiceUnavailable("实时状态不可用 / live state unavailable (Redis)", component="redis") from exc
    if actor.role not in ROLES_SEEING_FULL_NUMBERS:
        for call in calls:
            call["caller_number"] = mask_phone(call.get("caller_number"))
    now = time.time()
    for queue in queues:
        oldest = queue.get("oldest_joined_at")
        queue["longest_wait_s"] = None if oldest is None else round(max(0.0, now - oldest), 1)
    bridge = BridgeClient(client).status()
    source = meta.get("source") or ("simulator" if context.settings.demo_mode else "asterisk")
    return {
        "source": source,
        "simulated": source == "simulator",
        "bridge_running": bridge is not None,
        "connected": bool(bridge and bridge.get("connected")),
        "queues": queues,
        "agents": agents,
        "calls": calls,
        "at": now,
    }
