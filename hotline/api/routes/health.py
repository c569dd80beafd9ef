"""Health: every component the hotline needs, each with a status monitoring can alert on.

`status` is `ok` only when every component is ok; `degraded` when the API answers but something
behind it is not working (no job worker, a queue falling behind, the bridge or IVR of any node in
HOTLINE_NODES not running, a PBX disconnected); `down` (HTTP 503) when the database or Redis is
unreachable and the API itself cannot work. The same facts per component are under `components`;
the bridge's and the IVR's per node under `nodes` (connected or not, and since when).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from rq import Queue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.api.deps import ContextDep
from hotline.asr.model import asr_status
from hotline.bootstrap import Context
from hotline.bridge_client import DEFAULT_NODE, BridgeClient
from hotline.jobs.outbox import owed
from hotline.jobs.pool import DEFAULT_QUEUES, alive_workers
from hotline.jobs.transcription import ASR_QUEUE
from hotline.live.nodes import known_nodes
from hotline.live.publisher import NODES_KEY
from hotline.redis_conn import redis_status
from hotline.supervise import IVR_ALIVE_KEY, STATUS

router = APIRouter(tags=["health"])

#: A job waiting longer than this in a queue the workers serve means they are not keeping up.
QUEUE_AGE_LIMIT_S = 60.0


@router.get(
    "/api/health",
    summary="Each component's status (database, Redis, workers and queues, bridge, IVR); 503 when the API cannot work",
    responses={503: {"description": "the database or Redis is down"}},
)
def health(context: ContextDep) -> JSONResponse:
    database = _database(context)
    redis_state = redis_status(context.redis)
    components = {
        "database": {"status": "ok" if database["ok"] else "down", **database},
        "redis": {"status": "ok" if redis_state["ok"] else "down", **redis_state},
    }
    if redis_state["ok"]:
        components["workers"] = _workers(context, database["ok"])
        components["bridge"] = _bridges(context)
        components["ivr"] = _ivrs(context)
    else:
        for name in ("workers", "bridge", "ivr"):
            components[name] = {"status": "unknown", "reason": "Redis unavailable"}
    for name, supervised in STATUS.items():  # what this process supervises: restarts and why
        components.setdefault(name, {"status": "ok" if supervised.running else "degraded"})
        components[name]["supervised"] = supervised.as_dict()
    statuses = {c["status"] for c in components.values()}
    overall = "down" if "down" in statuses else "ok" if statuses == {"ok"} else "degraded"
    bridge = components["bridge"]
    body = {
        "status": overall,
        "env": context.settings.env,
        "pbx": (
            "simulated (demo mode: built-in AMI simulator and simulated callers)"
            if context.settings.demo_mode
            else f"asterisk {context.settings.ami_host}"
        ),
        "bridge": {k: bridge[k] for k in ("running", "connected", "source", "error", "nodes_down") if k in bridge},
        "database": database,
        "redis": redis_state,
        # Optional: without a model the service runs, and this says how to enable transcription.
        "asr": asr_status(context.settings),
        "components": components,
    }
    return JSONResponse(body, status_code=503 if overall == "down" else 200)


def _database(context: Context) -> dict[str, Any]:
    database: dict[str, Any] = {"backend": context.engine.dialect.name}
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database["ok"] = True
    except SQLAlchemyError as exc:
        database.update(ok=False, error=str(exc.__cause__ or exc).splitlines()[0])
    return database


def _workers(context: Context, database_ok: bool) -> dict[str, Any]:
    """Live workers, each queue's length and the age of its oldest job, and what the outbox still owes."""
    client = context.redis.client
    workers = alive_workers(client)
    served = {q for w in workers for q in w.get("queues", [])}
    queues = {}
    now = time.time()
    for name in [*DEFAULT_QUEUES, ASR_QUEUE]:
        queue = Queue(name, connection=client)
        oldest = None
        first = queue.get_job_ids(0, 1)
        if first:
            job = queue.fetch_job(first[0])
            if job is not None and job.enqueued_at is not None:
                oldest = round(max(0.0, now - job.enqueued_at.replace(tzinfo=UTC).timestamp()), 1)
        queues[name] = {"waiting": queue.count, "oldest_s": oldest, "served": name in served}
    problems = [f"no worker serves {q}" for q in DEFAULT_QUEUES if q not in served]
    problems += [
        f"{q} oldest job waiting {v['oldest_s']} s"
        for q, v in queues.items()
        if v["oldest_s"] is not None and v["oldest_s"] > QUEUE_AGE_LIMIT_S
    ]
    outbox: dict[str, Any] = {}
    if database_ok:
        with context.sessions() as session:
            outbox = owed(session, datetime.now(UTC))
        if outbox["failed"]:
            problems.append(f"{outbox['failed']} outbox messages failed for good")
    return {
        "status": "degraded" if problems else "ok",
        "count": len(workers),
        "queues": queues,
        "outbox": outbox,
        "problems": problems,
    }


def _nodes(context: Context) -> list[str]:
    """The install's nodes (HOTLINE_NODES), then any other node whose bridge published live state
    lately (a bridge started with a node name the list lacks: shown, so the typo is seen)."""
    configured = context.settings.node_list
    heard = set(known_nodes(context.redis.client)) - {DEFAULT_NODE}
    return configured + sorted(heard - set(configured))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def per_node(parts: dict[str, dict[str, Any]], configured: list[str], what: str) -> dict[str, Any]:
    """One component made of one part per node: ok when every configured node's part is ok.

    A one-node install reads as before (its node's fields at the top); with several, the top says how
    many are up and which are not, and `nodes` has each node's report."""
    down = [n for n in configured if parts[n]["status"] != "ok"]
    if len(parts) == 1:
        [(name, only)] = parts.items()
        return {**only, "nodes": {name: only}}
    component: dict[str, Any] = {
        "status": "degraded" if down else "ok",
        "running": all(parts[n].get("running") for n in configured),
        "nodes_up": [n for n in parts if parts[n]["status"] == "ok"],
        "nodes_down": down,
        "nodes": parts,
    }
    if "connected" in next(iter(parts.values())):
        component["connected"] = all(parts[n].get("connected") for n in configured)
    if down:
        component["reason"] = "; ".join(f"{what} on {n}: {parts[n].get('reason', 'not ok')}" for n in down)
    return component


def _bridges(context: Context) -> dict[str, Any]:
    client = context.redis.client
    nodes = _nodes(context)
    parts = {}
    for node in nodes:
        part = bridge_component(BridgeClient(client, node).status())
        part["configured"] = node in context.settings.node_list
        if not part["running"]:
            # The last time its live state was published: how long the node has been gone.
            seen = client.zscore(NODES_KEY, node)
            part["last_seen"] = None if seen is None else _iso(seen)
        parts[node] = part
    return per_node(parts, context.settings.node_list, "bridge")


def bridge_component(heartbeat: dict[str, Any] | None) -> dict[str, Any]:
    """The bridge's status from its heartbeat (hotline.bridge.actions writes it; None: no bridge).

    Running and connected to the PBX is ok; running without the PBX, or not running, is degraded.
    Whatever else the heartbeat says about the PBX link (`reason`, `since`, ...) is passed through.
    """
    if heartbeat is None:
        return {"status": "degraded", "running": False, "reason": "no telephony bridge is running"}
    connected = bool(heartbeat.get("connected"))
    component = {
        **{k: v for k, v in heartbeat.items() if k not in ("status", "running", "connected")},
        "status": "ok" if connected else "degraded",
        "running": True,
        "connected": connected,
        "source": heartbeat.get("source"),
    }
    if not connected:
        component.setdefault("reason", "the bridge is not connected to the PBX")
    return component


def _ivrs(context: Context) -> dict[str, Any]:
    client = context.redis.client
    parts = {}
    for node in _nodes(context):
        raw = client.get(IVR_ALIVE_KEY.format(node=node))
        if raw is None:
            part = {"status": "degraded", "running": False, "reason": "the IVR's FastAGI server is not listening"}
        else:
            part = {"status": "ok", "running": True, **json.loads(raw)}
        parts[node] = {**part, "configured": node in context.settings.node_list}
    return per_node(parts, context.settings.node_list, "IVR")
