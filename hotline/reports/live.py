"""The live wallboard as one snapshot: callers waiting per queue, lawyers by state, calls in progress.

Read from the bridge's Redis projection (hotline/live/publisher.py); GET /api/live, the feed's
first event and the wallboard download all show this. Raises redis.RedisError when Redis is away.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from hotline.bootstrap import Context
from hotline.bridge_client import BridgeClient
from hotline.live.publisher import AGENTS_KEY, CALLS_KEY, META_KEY, QUEUES_KEY
from ticketing.domain.access import Actor
from ticketing.domain.roles import phone_as_seen_by, sees_in_full


def _values(client: redis.Redis, key: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in client.hvals(key)]


def live_state(context: Context, actor: Actor, interface: str | None = None) -> dict[str, Any]:
    """The snapshot `actor` may see (caller numbers masked unless the role sees them in full)."""
    client = context.redis.client
    meta = {k.decode(): v.decode() for k, v in client.hgetall(META_KEY).items()}
    queues = sorted(_values(client, QUEUES_KEY), key=lambda q: q["queue"])
    agents = sorted(_values(client, AGENTS_KEY), key=lambda a: a["interface"])
    calls = sorted(_values(client, CALLS_KEY), key=lambda c: c.get("started_at") or 0)
    for call in calls:  # a lawyer sees in full only the calls put through to their phone (`interface`)
        own = interface is not None and call.get("agent_interface") == interface
        call["caller_number"] = phone_as_seen_by(actor.role, call.get("caller_number"), own=own)
        if not sees_in_full(actor.role, own=own):
            call.pop("recording_paths", None)
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
