"""Live state from the bridge: callers waiting per queue, lawyers by state, calls in progress."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter

from hotline.api.deps import ContextDep, CurrentUser, Desk
from hotline.api.errors import ServiceUnavailable
from hotline.reports.live import live_state

router = APIRouter(prefix="/api", tags=["live"])


@router.get("/live", summary="Live queues, lawyers and calls (simulated in demo mode)")
def live(context: ContextDep, actor: Desk, user: CurrentUser) -> dict[str, Any]:
    try:
        return live_state(context, actor, user.interface)
    except redis.RedisError as exc:
        raise ServiceUnavailable("实时状态不可用 / live state unavailable (Redis)", component="redis") from exc
