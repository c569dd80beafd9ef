"""The outbox: work committed with a change reaches rq on the real Redis, once, and survives an outage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from hotline import jobs
from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from hotline.outbox import relay_pending
from storage.tables import OutboxMessage
from ticketing.domain.roles import Role
from ticketing.tickets import ANNOUNCE_JOB, ROUTE_JOB, NewTicket, create_ticket

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _make_ticket(context: Context) -> str:
    with context.sessions.begin() as session:
        user = create_user(session, "lawyer1", "correct-horse-12348", Role.LAWYER)
        return create_ticket(
            session, actor_for(user), NewTicket("phone", "欠薪", caller_number="13808081234"), context.policy, NOW
        ).code


def test_relay_enqueues_each_message_once_and_the_job_publishes_to_the_feed(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _make_ticket(context)
    connection = context.redis.client
    assert relay_pending(context.sessions, connection) == 2  # announce the event, route the ticket
    assert relay_pending(context.sessions, connection) == 0  # already dispatched
    queue = Queue("default", connection=connection)
    assert [j.func_name for j in queue.jobs] == [ANNOUNCE_JOB, ROUTE_JOB]
    job = queue.jobs[0]
    assert job.func_name == ANNOUNCE_JOB
    monkeypatch.setattr(jobs, "worker_context", lambda: context)
    SimpleWorker([queue], connection=connection).work(burst=True)
    entries = connection.xrange(jobs.FEED_STREAM)
    assert len(entries) == 1
    payload = json.loads(entries[0][1][b"data"])
    assert payload["code"] == code and payload["to"] == "accepted" and payload["action"] == "create"
    assert "13808081234" not in entries[0][1][b"data"].decode()


def test_announce_job_is_safe_to_run_twice_and_for_missing_events(context: Context) -> None:
    _make_ticket(context)
    with context.sessions() as session:
        [event_id] = session.scalars(select(OutboxMessage.args).where(OutboxMessage.job == ANNOUNCE_JOB)).one()
    first = jobs.announce_ticket_event(event_id, context)
    second = jobs.announce_ticket_event(event_id, context)
    assert first == second and first is not None
    assert jobs.announce_ticket_event(10**9, context) is None


def test_redis_outage_delays_but_never_drops_work(context: Context) -> None:
    _make_ticket(context)
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens on port 1
    assert relay_pending(context.sessions, dead) == 0
    with context.sessions() as session:
        message = session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        assert message is not None
        assert message.dispatched_at is None and message.attempts == 1 and message.last_error
    assert relay_pending(context.sessions, context.redis.client) == 2
    assert len(Queue("default", connection=context.redis.client)) == 2
