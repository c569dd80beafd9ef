"""Call-back requests (virtual hold) in the database: the IVR creates them, the bridge claims the next
one when a lawyer is free, originates the call and reports how it went. Handlers take an open
Session and leave committing to the caller."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.virtual_hold_order import PendingCallback, next_to_serve
from ivr.waiting import QueueSnapshot
from storage.tables import VirtualHoldRequest

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)


class VirtualHoldStatus(StrEnum):
    WAITING = "waiting"
    DIALLING = "dialling"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (VirtualHoldStatus.WAITING, VirtualHoldStatus.DIALLING)


def open_key(number: str, queue: str) -> str:
    """One open request per number and matter (the queue the caller chose)."""
    return f"{number}|{queue}"


def request_callback(
    session: Session,
    *,
    number: str,
    queue: str,
    arrived_at: datetime,
    now: datetime,
    caller_number: str | None = None,
    linkedid: str | None = None,
    language: str | None = None,
    priority: int = 0,
) -> tuple[VirtualHoldRequest, bool]:
    """Create the request, or return the open one for the same number and queue; (request, created)."""
    key = open_key(number, queue)
    existing = session.scalar(select(VirtualHoldRequest).where(VirtualHoldRequest.open_key == key))
    if existing is not None:
        return existing, False
    request = VirtualHoldRequest(
        number=number,
        caller_number=caller_number,
        queue=queue,
        arrived_at=arrived_at,
        requested_at=now,
        status=VirtualHoldStatus.WAITING.value,
        linkedid=linkedid,
        language=language,
        priority=priority,
        open_key=key,
    )
    try:
        with session.begin_nested():  # a concurrent request for the same key loses here, not the transaction
            session.add(request)
    except IntegrityError:
        existing = session.scalar(select(VirtualHoldRequest).where(VirtualHoldRequest.open_key == key))
        if existing is None:
            raise
        return existing, False
    logger.info("call-back request %d queued for %s (call %s)", request.id, queue, linkedid)
    return request, True


def waiting_since(snapshot: QueueSnapshot | Iterable[datetime | float] | None) -> list[datetime]:
    """Arrival times of callers still waiting, from a live snapshot (its oldest caller suffices)
    or from a list of join times (datetimes or epoch seconds)."""
    if snapshot is None:
        return []
    if isinstance(snapshot, QueueSnapshot):
        if snapshot.waiting == 0 or snapshot.oldest_joined_at is None:
            return []
        return [datetime.fromtimestamp(snapshot.oldest_joined_at, UTC)]
    return [t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC) for t in snapshot]


def claim_next_callback(
    session: Session,
    queue: str,
    waiting_snapshot: QueueSnapshot | Iterable[datetime | float] | None,
    now: datetime,
) -> VirtualHoldRequest | None:
    """The request to originate now for `queue`, marked `dialling`; None when nothing is due or a
    caller still on the line arrived earlier. Concurrent bridges never claim the same row."""
    candidate = session.scalar(
        select(VirtualHoldRequest)
        .where(
            VirtualHoldRequest.queue == queue,
            VirtualHoldRequest.status == VirtualHoldStatus.WAITING.value,
            or_(VirtualHoldRequest.retry_at.is_(None), VirtualHoldRequest.retry_at <= now),
        )
        .order_by(VirtualHoldRequest.arrived_at, VirtualHoldRequest.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if candidate is None:
        return None
    chosen = next_to_serve([PendingCallback(candidate.id, candidate.arrived_at)], waiting_since(waiting_snapshot))
    if chosen is None:
        return None
    candidate.status = VirtualHoldStatus.DIALLING.value
    candidate.attempts += 1
    candidate.last_attempt_at = now
    logger.info("call-back request %d claimed for %s (attempt %d)", candidate.id, queue, candidate.attempts)
    return candidate


def finish_callback(session: Session, request_id: int, outcome: str, now: datetime) -> VirtualHoldRequest:
    """Record an attempt's outcome: `answered` ends it, `cancelled` drops it, anything else (no_answer,
    busy, failed) puts it back in line after RETRY_AFTER until MAX_ATTEMPTS have been made."""
    request = session.get(VirtualHoldRequest, request_id, with_for_update=True)
    if request is None:
        raise LookupError(f"no call-back request {request_id}")
    request.last_outcome = outcome
    if outcome == "answered":
        _close(request, VirtualHoldStatus.DONE, now)
    elif outcome == "cancelled":
        _close(request, VirtualHoldStatus.CANCELLED, now)
    elif request.attempts >= MAX_ATTEMPTS:
        _close(request, VirtualHoldStatus.FAILED, now)
    else:
        request.status = VirtualHoldStatus.WAITING.value
        request.retry_at = now + RETRY_AFTER
    logger.info("call-back request %d: %s -> %s", request.id, outcome, request.status)
    return request


def _close(request: VirtualHoldRequest, status: VirtualHoldStatus, now: datetime) -> None:
    request.status = status.value
    request.finished_at = now
    request.open_key = None
