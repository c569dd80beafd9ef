"""Call-back requests as the bridge handles them: claimed in arrival order, never ahead of an earlier
caller still waiting, retried after a failed attempt, closed when done; one open per caller and matter."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ivr.virtual_hold import MAX_ATTEMPTS, RETRY_AFTER, claim_next_callback, finish_callback, request_callback
from ivr.waiting import QueueSnapshot
from tests.integration.ivr.conftest import OPEN

EARLY, LATE = OPEN - timedelta(minutes=10), OPEN - timedelta(minutes=2)


def add(session: Session, number: str, arrived: datetime, queue: str = "consult") -> int:
    request, created = request_callback(session, number=number, queue=queue, arrived_at=arrived, now=OPEN)
    assert created
    session.flush()
    return request.id


def test_claims_follow_arrival_order_and_callers_still_waiting(session: Session) -> None:
    late = add(session, "13900000002", LATE)
    early = add(session, "13900000001", EARLY)
    before = (EARLY - timedelta(minutes=1)).timestamp()
    waiting = QueueSnapshot("consult", 1, before, 1, 0, 0, 1, 60.0, OPEN.timestamp())
    assert claim_next_callback(session, "consult", waiting, OPEN) is None  # that caller came first
    first = claim_next_callback(session, "consult", [OPEN.timestamp()], OPEN)
    second = claim_next_callback(session, "consult", None, OPEN)
    assert first is not None and second is not None and (first.id, second.id) == (early, late)
    assert claim_next_callback(session, "consult", None, OPEN) is None
    assert claim_next_callback(session, "family", None, OPEN) is None  # other queues untouched


def test_failed_attempts_retry_later_then_give_up(session: Session) -> None:
    request_id = add(session, "13900000001", EARLY)
    now = OPEN
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = claim_next_callback(session, "consult", None, now)
        assert claimed is not None and claimed.attempts == attempt
        finished = finish_callback(session, request_id, "no_answer", now)
        if attempt < MAX_ATTEMPTS:
            assert finished.status == "waiting" and finished.retry_at == now + RETRY_AFTER
            assert claim_next_callback(session, "consult", None, now) is None  # not before retry_at
            now += RETRY_AFTER
    assert finished.status == "failed" and finished.open_key is None and finished.finished_at == now


def test_done_requests_free_the_caller_to_ask_again(session: Session) -> None:
    request_id = add(session, "13900000001", EARLY)
    again, created = request_callback(session, number="13900000001", queue="consult", arrived_at=LATE, now=OPEN)
    assert not created and again.id == request_id
    claim_next_callback(session, "consult", None, OPEN)
    assert finish_callback(session, request_id, "answered", OPEN).status == "done"
    session.flush()
    add(session, "13900000001", LATE)  # a new matter later: allowed


def test_finishing_an_unknown_request_is_an_error(session: Session) -> None:
    with pytest.raises(LookupError, match="no call-back request 999"):
        finish_callback(session, 999, "answered", OPEN)
