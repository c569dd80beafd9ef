"""Live queue state as the bridge writes it (Redis hash `hotline:live:queues`), and what the IVR
makes of it: the caller's position, an estimated wait, whether anyone is on duty. Pure functions.

Missing, unreadable or stale state means "unknown": no wait is announced and nobody is told there
is no lawyer, because a wrong announcement is worse than none.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass

logger = logging.getLogger(__name__)

LIVE_QUEUES_KEY = "hotline:live:queues"


def live_queues_key(node: str = "default") -> str:
    """The queue hash of one Asterisk node's bridge (HOTLINE_NODE); callers wait on their own node."""
    return LIVE_QUEUES_KEY if node == "default" else f"hotline:live:{node}:queues"


@dataclass(frozen=True)
class QueueSnapshot:
    queue: str
    waiting: int
    oldest_joined_at: float | None
    members_on_duty: int
    members_available: int
    members_paused: int
    talking: int
    avg_handle_s: float | None
    updated_at: float

    def is_fresh(self, now: float, max_age_s: float) -> bool:
        return now - self.updated_at <= max_age_s


def _count(data: dict[str, object], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a count, got {value!r}")
    return value


def _number(data: dict[str, object], key: str, optional: bool = True) -> float | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number, got {value!r}")
    return float(value)


def parse_snapshot(raw: bytes | str | None, queue: str) -> QueueSnapshot | None:
    """The hash field's JSON as a snapshot, or None (logged) when it is absent or malformed."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        updated_at = _number(data, "updated_at", optional=False)
        assert updated_at is not None
        return QueueSnapshot(
            queue=str(data.get("queue", queue)),
            waiting=_count(data, "waiting"),
            oldest_joined_at=_number(data, "oldest_joined_at"),
            members_on_duty=_count(data, "members_on_duty"),
            members_available=_count(data, "members_available"),
            members_paused=_count(data, "members_paused"),
            talking=_count(data, "talking"),
            avg_handle_s=_number(data, "avg_handle_s"),
            updated_at=updated_at,
        )
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("live state of queue %s is unreadable, treated as unknown: %s", queue, exc)
        return None


@dataclass(frozen=True)
class WaitEstimate:
    #: 1 = next to be served. None when unknown.
    position: int | None
    #: Seconds; None when unknown (no handle time yet, or nobody takes calls).
    seconds: float | None
    #: True only when fresh state says nobody is on duty.
    no_lawyer: bool


UNKNOWN = WaitEstimate(None, None, no_lawyer=False)


def estimate_wait(snapshot: QueueSnapshot | None, now: float, max_age_s: float) -> WaitEstimate:
    """Where a caller joining now would stand and roughly how long they would wait.

    Free lawyers take the first callers at once; the rest are served as calls end, at
    (lawyers taking calls) / (average handle time) calls per second."""
    if snapshot is None or not snapshot.is_fresh(now, max_age_s):
        return UNKNOWN
    position = snapshot.waiting + 1
    if snapshot.members_on_duty == 0:
        return WaitEstimate(position, None, no_lawyer=True)
    if snapshot.members_available > snapshot.waiting:
        return WaitEstimate(position, 0.0, no_lawyer=False)
    serving = snapshot.members_on_duty - snapshot.members_paused
    if serving <= 0 or snapshot.avg_handle_s is None:
        return WaitEstimate(position, None, no_lawyer=False)
    ahead = position - snapshot.members_available
    return WaitEstimate(position, ahead * snapshot.avg_handle_s / serving, no_lawyer=False)


def wait_minutes(seconds: float) -> int:
    """Announced minutes: rounded up, at least one."""
    return max(1, math.ceil(seconds / 60))
