"""Health: is the database reachable, is Redis, which mode are we in, can we transcribe."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.api.deps import ContextDep
from hotline.asr.model import asr_status
from hotline.bridge_client import BridgeClient
from hotline.redis_conn import redis_status

router = APIRouter(tags=["health"])


@router.get(
    "/api/health",
    summary="Database, Redis and the PBX link; 503 (degraded) when one the hotline needs is down",
)
def health(context: ContextDep) -> JSONResponse:
    database: dict[str, Any] = {"backend": context.engine.dialect.name}
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database["ok"] = True
    except SQLAlchemyError as exc:
        database.update(ok=False, error=str(exc.__cause__ or exc).splitlines()[0])
    redis = redis_status(context.redis)
    bridge = _bridge(context)
    ok = database["ok"] and redis["ok"] and bridge["status"] != "down"
    body = {
        "status": "ok" if ok else "degraded",
        "env": context.settings.env,
        "pbx": (
            "simulated (demo mode: built-in AMI simulator and simulated callers)"
            if context.settings.demo_mode
            else f"asterisk {context.settings.ami_host}"
        ),
        "bridge": bridge,
        "database": database,
        "redis": redis,
        # Optional: without a model the service runs, and this says how to enable transcription.
        "asr": asr_status(context.settings),
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def _bridge(context: Any) -> dict[str, Any]:
    """The telephony bridge's heartbeat. With a real Asterisk, a bridge that is not running or not
    connected is `down`: calls are neither recorded nor shown live, so the service is degraded. In
    demo mode the PBX is simulated and the bridge is informational (the API works without one)."""
    needed = not context.settings.demo_mode
    try:
        status = BridgeClient(context.redis.client).status()
    except redis.RedisError:
        return {"status": "down" if needed else "unknown", "running": False, "error": "Redis unavailable"}
    if status is None:
        return {"status": "down" if needed else "unknown", "running": False}
    connected = bool(status.get("connected"))
    body = {
        "status": "ok" if connected else "down" if needed else "unknown",
        "running": True,
        "connected": connected,
        "source": status.get("source"),
    }
    if not connected and status.get("last_error"):
        body["last_error"] = status["last_error"]  # e.g. "Connect call failed ('10.0.0.5', 5038)"
    return body
