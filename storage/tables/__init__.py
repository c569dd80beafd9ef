"""SQLAlchemy tables of the service's records: the relational database is the source of truth.

Calls live here beside tickets because a ticket concerns calls and callers; the bridge and the IVR
write Call rows through these classes.
"""

from storage.tables.audit import PersonalDataView
from storage.tables.base import Base
from storage.tables.calls import Call, Caller, CallStatsHourly
from storage.tables.consoles import AccountAudit, TicketDraft
from storage.tables.ivr import IvrSession, VirtualHoldRequest
from storage.tables.operations import PeriodicRun
from storage.tables.outbox import OutboxMessage
from storage.tables.people import AuthSession, User
from storage.tables.rosters import DutyShift
from storage.tables.routing import RoutingLabel, RoutingModel
from storage.tables.stations import Station
from storage.tables.tickets import (
    CallbackAttempt,
    FollowUpTask,
    Ticket,
    TicketCodeCounter,
    TicketEvent,
    TicketIdempotencyKey,
    ticket_calls,
)
from storage.tables.transcripts import Transcript
from storage.tables.workflow import DataExport, TicketEscalation

__all__ = [
    "AccountAudit",
    "AuthSession",
    "Base",
    "Call",
    "CallStatsHourly",
    "CallbackAttempt",
    "Caller",
    "DataExport",
    "DutyShift",
    "FollowUpTask",
    "IvrSession",
    "OutboxMessage",
    "PeriodicRun",
    "PersonalDataView",
    "RoutingLabel",
    "RoutingModel",
    "Station",
    "Ticket",
    "TicketCodeCounter",
    "TicketDraft",
    "TicketEscalation",
    "TicketEvent",
    "TicketIdempotencyKey",
    "Transcript",
    "User",
    "VirtualHoldRequest",
    "ticket_calls",
]
