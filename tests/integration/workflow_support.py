"""Helpers for the work-order workflow tests: people and tickets at chosen moments on the real database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from storage.tables import Ticket
from tests.conftest import station_id
from ticketing.domain.access import Actor
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role
from ticketing.tickets import NewTicket, create_ticket, get_ticket, transition_ticket

BEIJING = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct-horse-12348"
TOWNSHIP = "512022101"  # 石佛镇工作站, under 乐至县 (512022), under 资阳市 (512000), under 四川省
COUNTY = "512022"
CITY = "512000"


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


def person(context: Context, username: str, role: Role, station: str | None = None) -> Actor:
    with context.sessions.begin() as session:
        return actor_for(create_user(session, username, PASSWORD, role, station_code=station))


def new_ticket(context: Context, desk: Actor, at: datetime, **fields: object) -> str:
    fields.setdefault("description", "老板拖欠三个月工资不给")
    fields.setdefault("caller_number", "13808081234")
    with context.sessions.begin() as session:
        return create_ticket(session, desk, NewTicket("phone", **fields), context.policy, at).code  # type: ignore[arg-type]


def move(context: Context, actor: Actor, code: str, target: TicketStatus, at: datetime, **inputs: object) -> None:
    with context.sessions.begin() as session:
        ticket = get_ticket(session, actor, code, for_update=True)
        transition_ticket(session, actor, ticket, target, context.policy, at, **inputs)  # type: ignore[arg-type]


def forward(context: Context, desk: Actor, code: str, station_code: str, at: datetime) -> None:
    with context.sessions() as session:
        station = station_id(session, station_code)
    move(context, desk, code, TicketStatus.FORWARDED, at, station_id=station)


def ticket_row(context: Context, code: str) -> Ticket:
    with context.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.code == code))
        assert ticket is not None
        return ticket
