"""The live state of every Asterisk node, merged for readers, and which node has a lawyer or a call.

Each bridge publishes its node's calls, lawyers and queues under its own keys (hotline.live.publisher);
the wallboard shows them together, and actions go to the node where the lawyer's phone is a queue
member or the call is: click-to-call, pause and transfer reach the right Asterisk.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from hotline.live.publisher import DEFAULT_NODE, NODE_STALE_S, NODES_KEY, live_keys

_SUMMED = ("waiting", "members_on_duty", "members_available", "members_paused", "talking")


def known_nodes(client: redis.Redis, now: float | None = None) -> list[str]:
    """Nodes whose bridge published in the last NODE_STALE_S (and the default node), sorted."""
    since = (time.time() if now is None else now) - NODE_STALE_S
    members = client.zrangebyscore(NODES_KEY, since, "+inf")
    found = {raw.decode() if isinstance(raw, bytes) else str(raw) for raw in members}
    return sorted(found | {DEFAULT_NODE})


def _decoded(raw: dict[Any, Any]) -> dict[str, Any]:
    return {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}


def read_nodes(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """node -> {meta, queues, agents, calls}, read in one round trip."""
    nodes = known_nodes(client)
    pipe = client.pipeline(transaction=False)
    for node in nodes:
        keys = live_keys(node)
        pipe.hgetall(keys.meta)
        pipe.hgetall(keys.queues)
        pipe.hgetall(keys.agents)
        pipe.hgetall(keys.calls)
    results = pipe.execute()
    out = {}
    for index, node in enumerate(nodes):
        meta, queues, agents, calls = results[index * 4 : index * 4 + 4]
        out[node] = {
            "meta": {k.decode(): v.decode() for k, v in meta.items()},
            "queues": _decoded(queues),
            "agents": _decoded(agents),
            "calls": _decoded(calls),
        }
    return out


def merge_queues(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """One queue's snapshots from several nodes as one: counts summed, the oldest caller, the
    average handle time weighted by the lawyers talking (plain mean when nobody talks)."""
    merged = dict(snapshots[0])
    for name in _SUMMED:
        merged[name] = sum(int(s.get(name) or 0) for s in snapshots)
    joined = [s["oldest_joined_at"] for s in snapshots if s.get("oldest_joined_at") is not None]
    merged["oldest_joined_at"] = min(joined) if joined else None
    handles = [(s["avg_handle_s"], int(s.get("talking") or 0)) for s in snapshots if s.get("avg_handle_s") is not None]
    if handles:
        weight = sum(w for _, w in handles)
        merged["avg_handle_s"] = (
            sum(h * w for h, w in handles) / weight if weight else sum(h for h, _ in handles) / len(handles)
        )
    updated = [s["updated_at"] for s in snapshots if s.get("updated_at") is not None]
    merged["updated_at"] = min(updated) if updated else None  # as current as the stalest node
    if len(snapshots) > 1:
        merged["nodes"] = len(snapshots)
    return merged


def merged_state(client: redis.Redis) -> dict[str, Any]:
    """Queues merged across nodes; lawyers and calls listed with their node; each node's meta.
    Queue snapshots carry `nodes` (how many nodes have the queue) only when more than one has it."""
    per_node = read_nodes(client)
    queues: dict[str, list[dict[str, Any]]] = {}
    agents, calls = [], []
    for node, state in per_node.items():
        for name, snapshot in state["queues"].items():
            queues.setdefault(name, []).append(snapshot)
        # Views name their node when there are several (a one-node install reads as before).
        tag = {} if node == DEFAULT_NODE else {"node": node}
        agents += [{**view, **tag} for view in state["agents"].values()]
        calls += [{**view, **tag} for view in state["calls"].values()]
    return {
        "nodes": {node: state["meta"] for node, state in per_node.items() if state["meta"] or node != DEFAULT_NODE},
        "queues": [merge_queues(found) for _, found in sorted(queues.items())],
        "agents": agents,
        "calls": calls,
    }


def find_agent(client: redis.Redis, interface: str) -> tuple[str, dict[str, Any]] | None:
    """The node where this phone is a queue member, and its live view there."""
    return _find(client, interface, "agents")


def find_call(client: redis.Redis, linkedid: str) -> tuple[str, dict[str, Any]] | None:
    """The node a call in progress is on, and its live view (Linkedids are unique per node; with
    `systemname` set on every Asterisk, as deploy/README.md says, they are unique everywhere)."""
    return _find(client, linkedid, "calls")


def _find(client: redis.Redis, field: str, part: str) -> tuple[str, dict[str, Any]] | None:
    nodes = known_nodes(client)
    pipe = client.pipeline(transaction=False)
    for node in nodes:
        pipe.hget(getattr(live_keys(node), part), field)
    for node, raw in zip(nodes, pipe.execute(), strict=True):
        if raw is not None:
            return node, json.loads(raw)
    return None
