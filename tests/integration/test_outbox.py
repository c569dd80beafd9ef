"""The outbox: work committed with a change reaches rq on the real Redis, once, and survives an outage."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue
from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from hotline.jobs import tickets as jobs
from hotline.jobs import worker
from hotline.jobs.events import EVENT_JOBS, LEGACY_JOB_PATHS, job_for
from hotline.jobs.outbox import (
    CHECK_AFTER_S,
    COMPLETED_KEY,
    MAX_DISPATCHES,
    WORKER_ALIVE_KEY,
    options_for,
    relay_pending,
    rq_job_id,
)
from hotline.jobs.pool import InProcessWorker
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
    InProcessWorker([queue], connection=connection).work(burst=True)
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
        assert message.dispatched_at is None and message.attempts == 0 and message.last_error
    assert relay_pending(context.sessions, context.redis.client) == 2
    assert len(Queue("default", connection=context.redis.client)) == 2


def _messages(context: Context) -> list[OutboxMessage]:
    with context.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


LATER = timedelta(seconds=CHECK_AFTER_S + 1)


def test_a_message_stays_owed_until_its_job_completes(context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_ticket(context)
    connection = context.redis.client
    now = datetime.now(UTC)
    assert relay_pending(context.sessions, connection, now=now) == 2
    assert all(m.completed_at is None for m in _messages(context))  # sent is not done
    # Still queued when the relay looks again: not lost, not sent twice.
    assert relay_pending(context.sessions, connection, now=now + LATER) == 0
    assert len(Queue("default", connection=connection)) == 2
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    InProcessWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    # The jobs' callback confirmed in Redis; the relay's next pass records both in one UPDATE.
    assert all(m.completed_at is None for m in _messages(context)[:2])
    assert sorted(int(i) for i in connection.lrange(COMPLETED_KEY, 0, -1)) == [m.id for m in _messages(context)[:2]]
    assert relay_pending(context.sessions, connection, now=now + 2 * LATER) == 1  # only the new one
    announce, route, *later = _messages(context)  # routing wrote its own event, announced in turn
    assert announce.completed_at is not None and route.completed_at is not None
    assert [m.event for m in later] == [TicketEventRecorded.name] and later[0].completed_at is None
    assert connection.llen(COMPLETED_KEY) == 0


def test_jobs_lost_with_redis_are_sent_again(context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_ticket(context)
    connection = context.redis.client
    now = datetime.now(UTC)
    relay_pending(context.sessions, connection, now=now)
    connection.flushdb()  # Redis restarted without persistence: the queue is gone
    assert relay_pending(context.sessions, connection, now=now + LATER) == 2
    assert [m.attempts for m in _messages(context)] == [2, 2]
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    InProcessWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    relay_pending(context.sessions, connection, now=now + 2 * LATER)
    announce, route, *_later = _messages(context)
    assert announce.completed_at is not None and route.completed_at is not None
    assert len(connection.xrange(FEED_STREAM)) == 1  # the creation announced once


def test_a_job_of_a_dead_worker_is_sent_again_and_a_live_workers_is_not(context: Context) -> None:
    _make_ticket(context)
    connection = context.redis.client
    now = datetime.now(UTC)
    relay_pending(context.sessions, connection, now=now)
    first, second = _messages(context)
    for message, name in ((first, "alive-worker"), (second, "dead-worker")):
        connection.hset(f"rq:job:{rq_job_id(message.id, 1)}", mapping={"status": "started", "worker_name": name})
    connection.set(WORKER_ALIVE_KEY.format(name="alive-worker"), "{}", ex=30)
    assert relay_pending(context.sessions, connection, now=now + LATER) == 1
    assert [m.attempts for m in _messages(context)] == [1, 2]


def test_sends_are_bounded_and_a_message_that_keeps_failing_is_marked_failed(context: Context) -> None:
    _make_ticket(context)
    connection = context.redis.client
    now = datetime.now(UTC)
    for send in range(1, MAX_DISPATCHES + 1):
        assert relay_pending(context.sessions, connection, now=now) == 2
        for message in _messages(context):
            connection.hset(f"rq:job:{rq_job_id(message.id, send)}", "status", "failed")  # rq's own retries spent
        now += LATER
    assert relay_pending(context.sessions, connection, now=now) == 0
    assert all(m.failed_at is not None and "gave up" in (m.last_error or "") for m in _messages(context))


def test_every_job_kind_has_bounded_retries() -> None:
    for event in EVENT_JOBS:
        retry = options_for(event)["retry"]
        assert 1 <= retry.max <= 5, event


def test_a_retry_nobody_schedules_is_sent_again(context: Context) -> None:
    _make_ticket(context)
    connection = context.redis.client
    now = datetime.now(UTC)
    relay_pending(context.sessions, connection, now=now)
    first, second = _messages(context)
    for message, due in ((first, time.time() + 5), (second, time.time() - 3600)):  # on time; long overdue
        job_id = rq_job_id(message.id, 1)
        connection.hset(f"rq:job:{job_id}", mapping={"status": "scheduled", "origin": "default"})
        connection.zadd("rq:scheduled:default", {job_id: due})
    assert relay_pending(context.sessions, connection, now=now + LATER) == 1
    assert [m.attempts for m in _messages(context)] == [1, 2]


def test_a_job_queued_in_name_only_is_sent_again(context: Context) -> None:
    _make_ticket(context)
    connection = context.redis.client
    now = datetime.now(UTC)
    relay_pending(context.sessions, connection, now=now)
    first, _second = _messages(context)
    connection.lrem("rq:queue:default", 0, rq_job_id(first.id, 1))  # taken by a worker that then died
    assert relay_pending(context.sessions, connection, now=now + LATER) == 1
    assert [m.attempts for m in _messages(context)] == [2, 1]


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
