"""Escalation (督办) on the real database and Redis: once per lapse, one level up each time, history,
supervisors' feed, the periodic scheduler, and several sweeps racing."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from rq import Queue
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.jobs import periodic, worker
from hotline.jobs import tickets as jobs
from hotline.jobs.outbox import relay_pending
from hotline.jobs.pool import InProcessWorker
from hotline.jobs.scheduler import PERIODIC_JOBS, enqueue_due
from hotline.live.feed import FEED_STREAM
from storage.tables import OutboxMessage, TicketEscalation, TicketEvent
from tests.conftest import station_id
from tests.integration.workflow_support import (
    CITY,
    COUNTY,
    TOWNSHIP,
    beijing,
    forward,
    move,
    new_ticket,
    person,
    ticket_row,
)
from ticketing.domain.access import Actor
from ticketing.domain.events import TicketEscalated
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role
from ticketing.escalation import escalate_overdue
from ticketing.tickets import get_ticket, transition_ticket

# Tue Sep 30 2025, 10:00 in Beijing: accept due Oct 10 00:00 (National Day in between),
# 劳动争议 finish due Oct 12 00:00 (Oct 9, 10 and the make-up Saturday Oct 11).
FORWARDED_AT = beijing(2025, 9, 30, 10)
ACCEPT_DUE = beijing(2025, 10, 10)
FINISH_DUE = beijing(2025, 10, 12)


@pytest.fixture
def desk(context: Context) -> Actor:
    return person(context, "supervisor", Role.SUPERVISOR)


def forwarded(context: Context, desk: Actor, station: str = TOWNSHIP, **fields: object) -> str:
    code = new_ticket(context, desk, FORWARDED_AT, category="劳动争议", **fields)
    forward(context, desk, code, station, FORWARDED_AT)
    return code


def escalations(context: Context) -> list[TicketEscalation]:
    with context.sessions() as session:
        return list(session.scalars(select(TicketEscalation).order_by(TicketEscalation.id)))


def test_deadlines_in_working_days_across_national_day(context: Context, desk: Actor) -> None:
    ticket = ticket_row(context, forwarded(context, desk))
    assert ticket.accept_due_at == ACCEPT_DUE and ticket.finish_due_at == FINISH_DUE


def test_each_lapse_is_escalated_once_and_one_level_higher(context: Context, desk: Actor) -> None:
    code = forwarded(context, desk)
    version = ticket_row(context, code).version
    assert escalate_overdue(context.sessions, ACCEPT_DUE - timedelta(seconds=1)) == []
    [first] = escalate_overdue(context.sessions, ACCEPT_DUE)
    assert escalate_overdue(context.sessions, ACCEPT_DUE + timedelta(hours=1)) == []  # same lapse: nothing new
    [second] = escalate_overdue(context.sessions, FINISH_DUE + timedelta(minutes=5))
    assert escalate_overdue(context.sessions, FINISH_DUE + timedelta(days=30)) == []
    with context.sessions() as session:
        rows = {e.id: e for e in session.scalars(select(TicketEscalation))}
        assert (rows[first].kind, rows[first].deadline, rows[first].levels_up) == ("accept", ACCEPT_DUE, 1)
        assert rows[first].station_id == station_id(session, TOWNSHIP)
        assert rows[first].escalated_to_id == station_id(session, COUNTY)
        assert (rows[second].kind, rows[second].levels_up) == ("finish", 2)
        assert rows[second].escalated_to_id == station_id(session, CITY)
        ticket = get_ticket(session, desk, code)
        history = [(e.action, e.from_status, e.to_status) for e in ticket.events]
        assert history[-2:] == [("escalate", "forwarded", "forwarded")] * 2
        assert ticket.events[-2].data["escalated_to"] == "乐至县公共法律服务中心"
        assert "接收期限" in (ticket.events[-2].note or "")
        # Escalating records history without touching the ticket row: no race with station staff.
        assert ticket.status == "forwarded" and ticket.version == version
        alerts = session.scalars(select(OutboxMessage.args).where(OutboxMessage.event == TicketEscalated.name)).all()
        assert sorted(alerts) == [[first], [second]]


def test_a_step_done_in_time_is_not_escalated_and_late_acceptance_stops_the_accept_lapse(
    context: Context, desk: Actor
) -> None:
    on_time, late = forwarded(context, desk), forwarded(context, desk)
    staff = person(context, "township", Role.STATION_STAFF, TOWNSHIP)
    move(context, staff, on_time, TicketStatus.RECEIVED, ACCEPT_DUE - timedelta(hours=1))
    move(context, staff, late, TicketStatus.RECEIVED, ACCEPT_DUE + timedelta(hours=1))
    assert escalate_overdue(context.sessions, ACCEPT_DUE + timedelta(hours=2)) == []
    move(context, staff, on_time, TicketStatus.IN_PROGRESS, FINISH_DUE - timedelta(hours=2))
    move(context, staff, on_time, TicketStatus.CLOSED, FINISH_DUE - timedelta(hours=1), result="已调解")
    created = escalate_overdue(context.sessions, FINISH_DUE)
    assert [(e.ticket.code, e.kind) for e in _with_tickets(context, created)] == [(late, "finish")]


def _with_tickets(context: Context, ids: list[int]) -> list[TicketEscalation]:
    with context.sessions() as session:
        rows = session.scalars(select(TicketEscalation).where(TicketEscalation.id.in_(ids))).all()
        for row in rows:
            _ = row.ticket.code
        return list(rows)


def test_a_ticket_returned_and_forwarded_again_can_lapse_again(context: Context, desk: Actor) -> None:
    code = forwarded(context, desk)
    escalate_overdue(context.sessions, ACCEPT_DUE)
    staff = person(context, "township", Role.STATION_STAFF, TOWNSHIP)
    move(context, staff, code, TicketStatus.RETURNED, ACCEPT_DUE + timedelta(hours=1), reason="不属于本辖区")
    refiled = beijing(2025, 10, 13, 9)
    forward(context, desk, code, COUNTY, refiled)
    new_due = ticket_row(context, code).accept_due_at
    assert new_due == beijing(2025, 10, 15)
    [again] = escalate_overdue(context.sessions, new_due)
    with context.sessions() as session:
        row = session.get(TicketEscalation, again)
        assert row is not None
        # A new station's first lapse goes to its own parent.
        assert (row.levels_up, row.escalated_to_id) == (1, station_id(session, CITY))


def test_root_station_lapse_stays_at_the_root_and_is_still_announced(context: Context, desk: Actor) -> None:
    forwarded(context, desk, station="510000")
    [only] = escalate_overdue(context.sessions, ACCEPT_DUE)
    with context.sessions() as session:
        row = session.get(TicketEscalation, only)
        assert row is not None and row.levels_up == 0 and row.escalated_to_id == row.station_id


def test_concurrent_sweeps_escalate_each_lapse_exactly_once(context: Context, desk: Actor) -> None:
    codes = [forwarded(context, desk) for _ in range(6)]
    sweepers = 4
    barrier = threading.Barrier(sweepers)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        barrier.wait(timeout=10)
        try:
            results.append(escalate_overdue(context.sessions, FINISH_DUE))
        except BaseException as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    created = sorted(i for result in results for i in result)
    assert len(created) == len(set(created)) == 2 * len(codes)  # accept and finish lapses of each
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TicketEscalation)) == 2 * len(codes)
        escalate_events = select(func.count()).where(TicketEvent.action == "escalate")
        assert session.scalar(escalate_events) == 2 * len(codes)
        alerts = select(func.count()).where(OutboxMessage.event == TicketEscalated.name)
        assert session.scalar(alerts) == 2 * len(codes)


def test_escalation_does_not_conflict_with_a_station_accepting_at_the_same_moment(
    context: Context, desk: Actor
) -> None:
    code = forwarded(context, desk)
    staff = person(context, "township", Role.STATION_STAFF, TOWNSHIP)
    accepting = context.sessions()
    ticket = get_ticket(accepting, staff, code)  # the station has the ticket open...
    assert len(escalate_overdue(context.sessions, ACCEPT_DUE + timedelta(seconds=1))) == 1  # ...the sweep runs...
    transition_ticket(accepting, staff, ticket, TicketStatus.RECEIVED, context.policy, ACCEPT_DUE)
    accepting.commit()  # ...and the acceptance still commits
    accepting.close()
    assert ticket_row(context, code).status == "received"


def test_alert_reaches_the_feed_through_outbox_and_worker_without_personal_data(
    context: Context, desk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = forwarded(context, desk, caller_name="张三")
    escalate_overdue(context.sessions, ACCEPT_DUE)
    connection = context.redis.client
    connection.delete(FEED_STREAM)
    relay_pending(context.sessions, connection)
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    InProcessWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    raw = [entry[1][b"data"].decode() for entry in connection.xrange(FEED_STREAM)]
    messages = [json.loads(text) for text in raw]
    alerts = [m for m in messages if m["type"] == "ticket.escalated"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["code"] == code and alert["kind"] == "accept" and alert["audience"] == "supervisor"
    assert alert["levels_up"] == 1 and datetime.fromisoformat(alert["deadline"]) == ACCEPT_DUE
    assert any(m["type"] == "ticket.event" and m["action"] == "escalate" for m in messages)
    assert not any("13808081234" in text or "张三" in text or "工资" in text for text in raw)
    assert jobs.announce_escalation(10**9, context) is None


def test_the_scheduler_enqueues_each_slot_once_across_processes(context: Context) -> None:
    connection = context.redis.client
    job = next(j for j in PERIODIC_JOBS if j.name == "escalate-overdue")
    start = 1_800_000_000.0 - (1_800_000_000 % job.every_s)
    # Two service processes ticking in the same minute: one enqueues, the other sees the claim.
    first = enqueue_due(connection, start + 1, (job,))
    second = enqueue_due(context.redis.client.__class__.from_url(context.redis.url), start + 30, (job,))
    third = enqueue_due(connection, start + job.every_s, (job,))  # the next minute
    assert first == [f"{job.name}-{int(start // job.every_s)}"] and second == []
    assert len(third) == 1
    queued = Queue(job.queue, connection=connection).jobs
    # Each run goes through run_periodic, which claims (job, slot) in the database before running it.
    assert [j.func_name for j in queued] == ["hotline.jobs.scheduler.run_periodic"] * 2
    assert [j.args[:3] for j in queued] == [
        (job.name, "hotline.jobs.periodic.escalate_overdue_tickets", int(start // job.every_s)),
        (job.name, "hotline.jobs.periodic.escalate_overdue_tickets", int(start // job.every_s) + 1),
    ]


def test_the_periodic_job_escalates_through_a_real_worker(
    context: Context, desk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    forwarded(context, desk)  # its deadlines, in 2025, have long passed
    connection = context.redis.client
    [sweep] = [j for j in PERIODIC_JOBS if j.name == "escalate-overdue"]
    enqueue_due(connection, datetime.now(UTC).timestamp(), (sweep,))
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    InProcessWorker([Queue(sweep.queue, connection=connection)], connection=connection).work(burst=True)
    assert sorted(e.kind for e in escalations(context)) == ["accept", "finish"]
    assert periodic.escalate_overdue_tickets(context) == 0  # safe to run again


def test_the_service_runs_the_scheduler_from_its_lifespan(context: Context) -> None:
    queue = Queue("sweeps", connection=context.redis.client)  # their own queue, never behind routing
    with TestClient(create_app(context, schedule_jobs=True)):
        give_up = time.monotonic() + 10  # a bound on waiting, not a speed requirement
        while len(queue.job_ids) < len(PERIODIC_JOBS) and time.monotonic() < give_up:
            time.sleep(0.02)
    assert sorted(job_id.rsplit("-", 1)[0] for job_id in queue.job_ids) == [
        "escalate-overdue",
        "purge-personal-data",
        "rebuild-kpi-rollup",
    ]
