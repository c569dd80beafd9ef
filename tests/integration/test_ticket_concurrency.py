"""Concurrency on the real database: unique codes under load, one winner per status change."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from storage.tables import Ticket, TicketEvent
from tests.conftest import station_id
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidTransition
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role
from ticketing.tickets import NewTicket, create_ticket, get_ticket, transition_ticket

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def supervisor(context: Context) -> Actor:
    with context.sessions.begin() as session:
        user = create_user(session, "supervisor", "correct-horse-12348", Role.SUPERVISOR)
        return Actor(user_id=user.id, role=Role.SUPERVISOR)


@pytest.fixture
def county_staff(context: Context) -> list[Actor]:
    actors = []
    with context.sessions.begin() as session:
        for name in ("staff-a", "staff-b"):
            user = create_user(session, name, "correct-horse-12348", Role.STATION_STAFF, station_code="512022")
            actors.append(actor_for(user))
    return actors


def _create(context: Context, supervisor: Actor, barrier: threading.Barrier) -> str:
    barrier.wait()
    for attempt in range(20):
        try:
            with context.sessions.begin() as session:
                return create_ticket(session, supervisor, NewTicket("phone", "并发创建"), context.policy, NOW).code
        except OperationalError:  # SQLite: "database is locked" after the busy timeout; try again
            if context.engine.dialect.name != "sqlite" or attempt == 19:
                raise
    raise AssertionError("unreachable")


def test_fifty_tickets_created_at_once_get_distinct_consecutive_codes(context: Context, supervisor: Actor) -> None:
    count = 50
    barrier = threading.Barrier(count)
    with ThreadPoolExecutor(max_workers=count) as pool:
        codes = list(pool.map(lambda _: _create(context, supervisor, barrier), range(count)))
    assert len(set(codes)) == count
    serials = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert serials == list(range(1, count + 1))
    assert all(code.startswith("12348-20261124-") for code in codes)


def test_codes_restart_each_local_day(context: Context, supervisor: Actor) -> None:
    with context.sessions.begin() as session:
        first = create_ticket(session, supervisor, NewTicket("phone", "a"), context.policy, NOW).code
        # 16:30 UTC is already the next day in Beijing.
        late = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
        next_day = create_ticket(session, supervisor, NewTicket("phone", "b"), context.policy, late).code
    assert first == "12348-20261124-000001"
    assert next_day == "12348-20261125-000001"


def test_two_staff_accepting_the_same_ticket_exactly_one_wins(
    context: Context, supervisor: Actor, county_staff: list[Actor]
) -> None:
    with context.sessions.begin() as session:
        county = station_id(session, "512022")
        ticket = create_ticket(session, supervisor, NewTicket("phone", "讨薪"), context.policy, NOW)
        transition_ticket(session, supervisor, ticket, TicketStatus.FORWARDED, context.policy, NOW, station_id=county)
        code = ticket.code
    staff = county_staff
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(actor: Actor) -> None:
        with context.sessions() as session:
            ticket = get_ticket(session, actor, code, for_update=True)
            barrier.wait(timeout=5) if context.engine.dialect.name == "sqlite" else None
            try:
                transition_ticket(session, actor, ticket, TicketStatus.RECEIVED, context.policy, NOW)
                session.commit()
                outcomes.append("won")
            except (InvalidTransition, StaleDataError, OperationalError):
                session.rollback()
                outcomes.append("refused")

    if context.engine.dialect.name == "postgresql":
        barrier = threading.Barrier(1)  # row locks serialise the two; the second sees "received"
    threads = [threading.Thread(target=accept, args=(actor,)) for actor in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "won"]
    with context.sessions() as session:
        received = session.scalars(select(TicketEvent).where(TicketEvent.action == "accept")).all()
        assert len(received) == 1


@pytest.mark.parametrize("status", [TicketStatus.RECEIVED])
def test_stale_copy_cannot_overwrite_a_newer_change(context: Context, supervisor: Actor, status: TicketStatus) -> None:
    """Optimistic locking: a session holding an old version of the ticket loses."""
    with context.sessions.begin() as session:
        county = station_id(session, "512022")
        ticket = create_ticket(session, supervisor, NewTicket("phone", "x"), context.policy, NOW)
        transition_ticket(session, supervisor, ticket, TicketStatus.FORWARDED, context.policy, NOW, station_id=county)
        ticket_id = ticket.id
    stale = context.sessions()
    old = stale.get(Ticket, ticket_id)
    assert old is not None
    with context.sessions.begin() as session:
        fresh = session.get(Ticket, ticket_id)
        assert fresh is not None
        transition_ticket(session, supervisor, fresh, status, context.policy, NOW)
    with pytest.raises((StaleDataError, InvalidTransition)):
        transition_ticket(stale, supervisor, old, TicketStatus.RETURNED, context.policy, NOW, reason="并发")
        stale.commit()
    stale.rollback()
    stale.close()
