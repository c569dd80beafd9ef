"""SQLAlchemy tables of the service's records: the relational database is the source of truth.

Calls live here beside tickets because a ticket concerns calls and callers; the bridge and the IVR
write Call rows through these classes.
"""

from ticketing.orm.audit import PersonalDataView
from ticketing.orm.base import Base
from ticketing.orm.calls import Call, Caller, CallStatsHourly
from ticketing.orm.ivr import CallbackRequest, IvrSession
from ticketing.orm.operations import PeriodicRun
from ticketing.orm.outbox import OutboxMessage
from ticketing.orm.people import AuthSession, User
from ticketing.orm.rosters import DutyShift
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
from ticketing.orm.workflow import DataExport, TicketEscalation

__all__ = [
    "AuthSession",
    "Base",
    "Call",
    "CallStatsHourly",
    "CallbackAttempt",
    "CallbackRequest",
    "CallbackTask",
    "Caller",
    "DataExport",
    "DutyShift",
    "IvrSession",
    "OutboxMessage",
    "PeriodicRun",
    "PersonalDataView",
    "Station",
    "Ticket",
    "TicketCodeCounter",
    "TicketEscalation",
    "TicketEvent",
    "Transcript",
    "User",
    "ticket_calls",
]
