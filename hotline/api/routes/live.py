"""Live state from the bridge: callers waiting per queue, lawyers by state, calls in progress."""

from __future__ import annotations

import time
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends

from hotline.api.deps import ContextDep, require_roles
from hotline.api.errors import ServiceUnavailable
from hotline.bridge_client import BridgeClient
from hotline.live.nodes import merged_state
from hotline.live.publisher import DEFAULT_NODE
from ticketing.domain.access import Actor
from ticketing.domain.roles import ROLES_SEEING_FULL_NUMBERS, Role, mask_phone

router = APIRouter(prefix="/api", tags=["live"])
Desk = Annotated[Actor, Depends(require_roles(Role.LAWYER, Role.SUPERVISOR, Role.ADMIN))]


@router.get("/live", summary="Live queues, lawyers and calls of every node (simulated in demo mode)")
def live(context: ContextDep, actor: Desk) -> dict[str, Any]:
    client = context.redis.client
    try:
        state = merged_state(client)
        running = {node: BridgeClient(client, node).status() for node in state["nodes"] or [DEFAULT_NODE]}
    except redis.RedisError as exc:
        raise ServiceUnavailable("实时状态不可用 / live state unavailable (Redis)", error=str(exc)) from None
    queues = state["queues"]
    agents = sorted(state["agents"], key=lambda a: (a["interface"], a.get("node", "")))
    calls = sorted(state["calls"], key=lambda c: c.get("started_at") or 0)
    if actor.role not in ROLES_SEEING_FULL_NUMBERS:
        for call in calls:
            call["caller_number"] = mask_phone(call.get("caller_number"))
    now = time.time()
    for queue in queues:
        oldest = queue.get("oldest_joined_at")
        queue["longest_wait_s"] = None if oldest is None else round(max(0.0, now - oldest), 1)
    sources = {meta.get("source") for meta in state["nodes"].values()} - {None}
    source = sources.pop() if len(sources) == 1 else ("simulator" if context.settings.demo_mode else "asterisk")
    alive = [status for status in running.values() if status is not None]
    return {
        "source": source,
        "simulated": source == "simulator",
        "bridge_running": bool(alive),
        "connected": bool(alive) and all(status.get("connected") for status in alive),
        "nodes": {
            node: {"bridge_running": status is not None, "connected": bool(status and status.get("connected"))}
            for node, status in running.items()
        },
        "queues": queues,
        "agents": agents,
        "calls": calls,
        "at": now,
    }
