"""Domain events: what happened, in the domain's words, with ids (never objects) as their data.

The core records an event in the transaction of the change that causes it (`ticketing.events.emit`
writes it to the outbox); which job, if any, each event starts is decided at the edge, in one place
(`hotline/jobs/events.py`). So the core names no job and imports nothing of the edge.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class DomainEvent:
    #: Stable name stored in the outbox; renaming one needs the edge's map to accept the old name.
    name: ClassVar[str]

    def args(self) -> list[Any]:
        """The event's data as the JSON list the outbox stores and the job receives."""
        return list(astuple(self))


@dataclass(frozen=True)
class TicketEventRecorded(DomainEvent):
    """A ticket's history gained an event (created, forwarded, closed, escalated, ...)."""

    name: ClassVar[str] = "ticket.event_recorded"
    event_id: int


@dataclass(frozen=True)
class TicketNeedsRouting(DomainEvent):
    """A ticket is new or its text changed (a transcript arrived): classify it and suggest a station."""

    name: ClassVar[str] = "ticket.needs_routing"
    ticket_id: int


@dataclass(frozen=True)
class TicketEscalated(DomainEvent):
    """A station missed a deadline and the ticket was escalated (督办) to the station above."""

    name: ClassVar[str] = "ticket.escalated"
    escalation_id: int


@dataclass(frozen=True)
class RecordingFinished(DomainEvent):
    """A call's or a voicemail's recording is complete on disk and can be transcribed."""

    name: ClassVar[str] = "recording.finished"
    path: str
    linkedid: str | None = None
    ticket_code: str | None = None


EVENTS: tuple[type[DomainEvent], ...] = (TicketEventRecorded, TicketNeedsRouting, TicketEscalated, RecordingFinished)
