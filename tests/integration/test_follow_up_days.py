"""Call-backs over days on the real database: unreachable after three days, the SLA on the Chinese
calendar (DESIGN.md §5), and two lawyers recording at the same moment."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from hotline.bootstrap import Context
from storage.tables import FollowUpTask
from tests.integration.conftest import Staff
from tests.integration.workflow_support import beijing, move, new_ticket, person, ticket_row
from ticketing.domain.access import Actor
from ticketing.domain.errors import AlreadyCompleted
from ticketing.domain.follow_up import FollowUpOutcome, Satisfaction
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role
from ticketing.follow_up import NewAttempt, get_task, record_attempt

Outcome = FollowUpOutcome
CLOSED_AT = beijing(2025, 9, 30, 15)  # Tue, eve of National Day 2025 (Oct 1-8 off, Sat Oct 11 worked)


@pytest.fixture
def lawyer(context: Context) -> Actor:
    return person(context, "lawyer1", Role.LAWYER)


def closed(context: Context, lawyer: Actor, at: datetime = CLOSED_AT) -> tuple[str, int]:
    code = new_ticket(context, lawyer, at - timedelta(hours=1), category="婚姻家庭")
    move(context, lawyer, code, TicketStatus.CLOSED, at, result="已解答")
    with context.sessions() as session:
        task_id = session.scalar(
            select(FollowUpTask.id).where(FollowUpTask.ticket.has(code=code)).order_by(FollowUpTask.id.desc())
        )
        assert task_id is not None
        return code, task_id


def call(
    context: Context, actor: Actor, task_id: int, at: datetime, outcome: Outcome, rating: Satisfaction | None = None
) -> str:
    with context.sessions.begin() as session:
        task = get_task(session, actor, task_id, for_update=True)
        record_attempt(session, actor, task, NewAttempt(outcome, rating), context.policy, at)
        return task.status


def test_due_date_counts_working_days_across_the_holiday(context: Context, lawyer: Actor) -> None:
    _code, task_id = closed(context, lawyer)
    with context.sessions() as session:
        task = session.get(FollowUpTask, task_id)
        assert task is not None and task.due_date.isoformat() == "2025-10-11"  # Oct 9, 10, make-up Sat 11


def test_failed_calls_on_three_different_days_make_the_task_unreachable(context: Context, lawyer: Actor) -> None:
    code, task_id = closed(context, lawyer)
    assert call(context, lawyer, task_id, beijing(2025, 10, 9, 9), Outcome.NO_ANSWER) == "pending"
    assert call(context, lawyer, task_id, beijing(2025, 10, 9, 16), Outcome.BUSY) == "pending"
    assert call(context, lawyer, task_id, beijing(2025, 10, 9, 23, 59), Outcome.NO_ANSWER) == "pending"  # same day
    assert call(context, lawyer, task_id, beijing(2025, 10, 10, 0, 1), Outcome.REFUSED) == "pending"  # second day
    assert call(context, lawyer, task_id, beijing(2025, 10, 11, 10), Outcome.WRONG_NUMBER) == "unreachable"
    ticket = ticket_row(context, code)
    assert ticket.status == "followed_up" and ticket.satisfaction is None
    with pytest.raises(AlreadyCompleted):
        call(context, lawyer, task_id, beijing(2025, 10, 13, 10), Outcome.REACHED, Satisfaction.SATISFIED)


def test_overdue_tasks_are_listed_as_overdue(client: TestClient, staff: dict[str, Staff], context: Context) -> None:
    lawyer = Actor(staff["lawyer1"].user_id, Role.LAWYER)
    _code, task_id = closed(context, lawyer)  # due Oct 11 2025: long past
    overdue = client.get("/api/callbacks", params={"state": "overdue"}, headers=staff["lawyer1"].headers).json()
    assert [t["id"] for t in overdue["items"]] == [task_id] and overdue["items"][0]["overdue"] is True
    due = client.get("/api/callbacks", params={"state": "due"}, headers=staff["lawyer1"].headers).json()
    assert due["total"] == 0


def test_sla_endpoint_per_design_section_5(client: TestClient, staff: dict[str, Staff], context: Context) -> None:
    lawyer = Actor(staff["lawyer1"].user_id, Role.LAWYER)
    reached_on_make_up_day = closed(context, lawyer)[1]
    call(context, lawyer, reached_on_make_up_day, beijing(2025, 10, 11, 17), Outcome.REACHED, Satisfaction.SATISFIED)
    reached_late = closed(context, lawyer)[1]
    call(context, lawyer, reached_late, beijing(2025, 10, 13, 9), Outcome.REACHED, Satisfaction.FAIRLY_SATISFIED)
    unreachable_in_time = closed(context, lawyer)[1]
    for day in (8, 9, 10):  # the 8th is a holiday: calling then still counts as a day tried
        call(context, lawyer, unreachable_in_time, beijing(2025, 10, day, 10), Outcome.NO_ANSWER)
    never_called = closed(context, lawyer)[1]
    other_month = closed(context, lawyer, beijing(2025, 11, 3, 10))[1]
    assert never_called and other_month

    response = client.get(
        "/api/callbacks/sla", params={"start": "2025-09-01", "end": "2025-09-30"}, headers=staff["supervisor"].headers
    )
    assert response.status_code == 200, response.text
    sla = response.json()
    assert sla["working_days"] == 3
    assert (sla["closed"], sla["on_time"], sla["late"], sla["open_overdue"]) == (4, 2, 1, 1)
    assert sla["rate"] == 0.5
    assert [row["lawyer_id"] for row in sla["by_lawyer"]] == [staff["lawyer1"].user_id]
    # N is a parameter: with 4 working days the late one (Oct 13) is on time.
    wider = client.get(
        "/api/callbacks/sla",
        params={"start": "2025-09-01", "end": "2025-09-30", "working_days": 4},
        headers=staff["supervisor"].headers,
    ).json()
    assert wider["on_time"] == 3 and wider["rate"] == 0.75
    assert client.get("/api/callbacks/sla", headers=staff["lawyer1"].headers).status_code == 403
    bad = client.get(
        "/api/callbacks/sla", params={"start": "2025-10-01", "end": "2025-09-01"}, headers=staff["supervisor"].headers
    )
    assert bad.status_code == 400


def test_two_lawyers_recording_at_once_settle_the_task_exactly_once(context: Context, lawyer: Actor) -> None:
    supervisor = person(context, "supervisor", Role.SUPERVISOR)
    code, task_id = closed(context, lawyer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    sqlite = context.engine.dialect.name == "sqlite"

    def record(actor: Actor, rating: Satisfaction) -> None:
        with context.sessions() as session:
            task = get_task(session, actor, task_id, for_update=True)
            if sqlite:  # SQLite has no row locks: both read first, the version check decides
                barrier.wait(timeout=5)
            try:
                record_attempt(session, actor, task, NewAttempt(Outcome.REACHED, rating), context.policy, CLOSED_AT)
                session.commit()
                outcomes.append("won")
            except (AlreadyCompleted, StaleDataError, OperationalError):
                session.rollback()
                outcomes.append("refused")

    threads = [
        threading.Thread(target=record, args=(lawyer, Satisfaction.SATISFIED)),
        threading.Thread(target=record, args=(supervisor, Satisfaction.DISSATISFIED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "won"]
    with context.sessions() as session:
        task = session.get(FollowUpTask, task_id)
        assert task is not None and len(task.attempts) == 1
        follow_ups = [e for e in task.ticket.events if e.action == "follow_up"]
        assert len(follow_ups) == 1
    assert ticket_row(context, code).status in {"followed_up", "accepted"}
