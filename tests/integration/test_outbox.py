"""The outbox: work committed with a change reaches rq on the real Redis, once, and survives an outage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from hotline.jobs import tickets as jobs
from hotline.jobs import worker
from hotline.jobs.events import EVENT_JOBS, LEGACY_JOB_PATHS, job_for
from hotline.jobs.outbox import relay_pending
from hotline.live.feed import FEED_STREAM
from storage.tables import OutboxMessage
from ticketing.domain.events import EVENTS, TicketEventRecorded
from ticketing.domain.roles import Role
from ticketing.tickets import NewTicket, create_ticket

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
    assert [j.func_name for j in queue.jobs] == [
        "hotline.jobs.tickets.announce_ticket_event",
        "hotline.jobs.routing.route_ticket",
    ]
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    SimpleWorker([queue], connection=connection).work(burst=True)
    entries = connection.xrange(FEED_STREAM)
    assert len(entries) == 1
    payload = json.loads(entries[0][1][b"data"])
    assert payload["code"] == code and payload["to"] == "accepted" and payload["action"] == "create"
    assert "13808081234" not in entries[0][1][b"data"].decode()


def test_announce_job_is_safe_to_run_twice_and_for_missing_events(context: Context) -> None:
    _make_ticket(context)
    with context.sessions() as session:
        [event_id] = session.scalars(
            select(OutboxMessage.args).where(OutboxMessage.event == TicketEventRecorded.name)
        ).one()
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


def test_every_domain_event_starts_a_job_and_old_job_paths_still_relay() -> None:
    assert set(EVENT_JOBS) == {event.name for event in EVENTS}
    for old_path, event in LEGACY_JOB_PATHS.items():
        assert job_for(old_path) == EVENT_JOBS[event]
    assert job_for("no.such.event") is None


def test_an_event_nobody_knows_stays_in_the_outbox_with_its_reason(context: Context) -> None:
    _make_ticket(context)
    with context.sessions.begin() as session:
        session.add(OutboxMessage(event="ticket.from_a_newer_release", args=[1]))
    assert relay_pending(context.sessions, context.redis.client) == 2  # the known ones still go
    with context.sessions() as session:
        stuck = session.scalars(select(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None))).one()
    assert stuck.event == "ticket.from_a_newer_release" and "no job for event" in (stuck.last_error or "")
