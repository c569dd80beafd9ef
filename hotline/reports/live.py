"""The live wallboard as one snapshot: callers waiting per queue, lawyers by state, calls in progress.

Read from the bridges' Redis projection (hotline/live/publisher.py), every Asterisk node merged
(hotline/live/nodes.py); GET /api/live, the feed's first event and the wallboard download all show
this. Raises redis.RedisError when Redis is away.
"""

from __future__ import annotations

import time
from typing import Any

from hotline.bootstrap import Context
from hotline.bridge_client import BridgeClient
from hotline.live.nodes import merged_state
from hotline.live.publisher import DEFAULT_NODE
from ticketing.domain.access import Actor
from ticketing.domain.roles import phone_as_seen_by


def live_state(context: Context, actor: Actor, interface: str | None = None) -> dict[str, Any]:
    """The snapshot `actor` may see (caller numbers masked unless the role sees them in full)."""
    client = context.redis.client
    state = merged_state(client)
    running = {node: BridgeClient(client, node).status() for node in state["nodes"] or [DEFAULT_NODE]}
    queues = state["queues"]
    agents = sorted(state["agents"], key=lambda a: (a["interface"], a.get("node", "")))
    calls = sorted(state["calls"], key=lambda c: c.get("started_at") or 0)
    for call in calls:  # a lawyer sees in full only the calls put through to their phone (`interface`)
        own = interface is not None and call.get("agent_interface") == interface
        call["caller_number"] = phone_as_seen_by(actor.role, call.get("caller_number"), own=own)
        call.pop("recording_paths", None)  # never a file's path: recordings play through the API
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
