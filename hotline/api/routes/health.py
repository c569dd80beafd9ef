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


@router.get("/api/health", summary="Database and Redis status; 503 when either is down")
def health(context: ContextDep) -> JSONResponse:
    database: dict[str, Any] = {"backend": context.engine.dialect.name}
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database["ok"] = True
    except SQLAlchemyError as exc:
        database.update(ok=False, error=str(exc.__cause__ or exc).splitlines()[0])
    redis = redis_status(context.redis)
    ok = database["ok"] and redis["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "env": context.settings.env,
        "pbx": (
            "simulated (demo mode: built-in AMI simulator and simulated callers)"
            if context.settings.demo_mode
            else f"asterisk {context.settings.ami_host}"
        ),
        "bridge": _bridge(context),
        "database": database,
        "redis": redis,
        # Optional: without a model the service runs, and this says how to enable transcription.
        "asr": asr_status(context.settings),
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def _bridge(context: Any) -> dict[str, Any]:
    """The telephony bridge's heartbeat: not part of the status code (the API works without it)."""
    try:
        status = BridgeClient(context.redis.client).status()
    except redis.RedisError:
        return {"running": False, "error": "Redis unavailable"}
    if status is None:
        return {"running": False}
    return {"running": True, "connected": bool(status.get("connected")), "source": status.get("source")}
