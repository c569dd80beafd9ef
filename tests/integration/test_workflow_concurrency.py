"""Forwarding transitions racing on the real database: of two conflicting changes exactly one wins.

PostgreSQL serialises them with the row lock (the second sees the new status); SQLite has no row
locks, so both read first and the ticket's version column refuses the second write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from hotline.bootstrap import Context
from storage.tables import Ticket, TicketEvent
from tests.integration.workflow_support import COUNTY, beijing, forward, move, new_ticket, person, ticket_row
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidTransition, NotFound
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role
from ticketing.forwarding import report_progress
from ticketing.tickets import get_ticket, transition_ticket

AT = beijing(2025, 11, 24, 10)
#: One change to a ticket, made in an open session; its outcome is named after `name`.
Change = tuple[str, Callable[[Session, Actor, Ticket], object]]


def changes(context: Context) -> dict[str, Change]:
    policy = context.policy
    return {
        "accept": ("accept", lambda s, a, t: transition_ticket(s, a, t, TicketStatus.RECEIVED, policy, AT)),
        "return": (
            "return",
            lambda s, a, t: transition_ticket(s, a, t, TicketStatus.RETURNED, policy, AT, reason="非本辖区"),
        ),
        "finish": (
            "finish",
            lambda s, a, t: transition_ticket(s, a, t, TicketStatus.CLOSED, policy, AT, result="已办结"),
        ),
        "progress": ("progress", lambda s, a, t: report_progress(s, a, t, "正在联系", policy, AT)),
    }


@pytest.fixture
def staff(context: Context) -> tuple[Actor, Actor]:
    return person(context, "staff-a", Role.STATION_STAFF, COUNTY), person(
        context, "staff-b", Role.STATION_STAFF, COUNTY
    )


def race(context: Context, code: str, first: tuple[Actor, str], second: tuple[Actor, str]) -> list[str]:
    """Run two changes on one ticket at once; returns the names of those that committed, or "refused"."""
    known = changes(context)
    sqlite = context.engine.dialect.name == "sqlite"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(actor: Actor, change_name: str) -> None:
        name, change = known[change_name]
        with context.sessions() as session:
            try:
                # On PostgreSQL the second waits here; a ticket returned meanwhile has left the station.
                ticket = get_ticket(session, actor, code, for_update=True)
                if sqlite:
                    barrier.wait(timeout=5)
                change(session, actor, ticket)
                session.commit()
                outcomes.append(name)
            except (InvalidTransition, NotFound, StaleDataError, OperationalError):
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=run, args=pair) for pair in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _forwarded(context: Context) -> str:
    desk = person(context, "desk", Role.SUPERVISOR)
    code = new_ticket(context, desk, AT, category="劳动争议")
    forward(context, desk, code, COUNTY, AT)
    return code


def test_accept_and_return_at_once_lose_nothing(context: Context, staff: tuple[Actor, Actor]) -> None:
    code = _forwarded(context)
    outcomes = race(context, code, (staff[0], "accept"), (staff[1], "return"))
    with context.sessions() as session:
        events = session.scalars(
            select(TicketEvent).where(TicketEvent.action.in_(["accept", "return"])).order_by(TicketEvent.id)
        ).all()
        steps = [(e.action, e.from_status, e.to_status) for e in events]
    # Either one was refused, or they ran one after the other: a received ticket may still be returned.
    if "refused" in outcomes:
        assert len(steps) == 1
    else:
        assert steps == [("accept", "forwarded", "received"), ("return", "received", "returned")]
    assert ticket_row(context, code).status == steps[-1][2]


def test_two_returns_at_once_record_one_return(context: Context, staff: tuple[Actor, Actor]) -> None:
    code = _forwarded(context)
    assert sorted(race(context, code, (staff[0], "return"), (staff[1], "return"))) == ["refused", "return"]


def test_progress_racing_the_result_never_lands_on_a_closed_ticket(
    context: Context, staff: tuple[Actor, Actor]
) -> None:
    code = _forwarded(context)
    move(context, staff[0], code, TicketStatus.RECEIVED, AT)
    move(context, staff[0], code, TicketStatus.IN_PROGRESS, AT)
    outcomes = race(context, code, (staff[0], "finish"), (staff[1], "progress"))
    with context.sessions() as session:
        actions = [e.action for e in get_ticket(session, staff[0], code).events]
    after_start = actions[actions.index("start") + 1 :]
    # The report came first and the result after it, or one of them won and the other was refused:
    # never a progress report on a closed ticket.
    assert after_start in (["progress", "finish"], ["finish"], ["progress"])
    assert sorted(o for o in outcomes if o != "refused") == sorted(after_start)
    assert ticket_row(context, code).status == ("closed" if "finish" in after_start else "in_progress")
