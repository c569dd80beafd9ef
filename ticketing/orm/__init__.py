"""SQLAlchemy tables of the service's records: the relational database is the source of truth.

Calls live here beside tickets because a ticket concerns calls and callers; the bridge and the IVR
write Call rows through these classes.
"""

from ticketing.orm.base import Base
from ticketing.orm.calls import Call, Caller
from ticketing.orm.outbox import OutboxMessage
from ticketing.orm.people import AuthSession, User
from ticketing.orm.stations import Station
from ticketing.orm.tickets import (
    CallbackAttempt,
    CallbackTask,
    Ticket,
    TicketCodeCounter,
    TicketEvent,
    ticket_calls,
)
from ticketing.orm.transcripts import Transcript

__all__ = [
    "AuthSession",
    "Base",
    "Call",
    "CallbackAttempt",
    "CallbackTask",
    "Caller",
    "OutboxMessage",
    "Station",
    "Ticket",
    "TicketCodeCounter",
    "TicketEvent",
    "Transcript",
    "User",
    "ticket_calls",
]
