"""Escalations (督办) of forwarded tickets and the audit of report exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.people import User
from storage.tables.stations import Station
from storage.tables.tickets import Ticket


class TicketEscalation(Base):
    """One lapse of one deadline, escalated once: the unique key is what makes a rerun harmless."""

    __tablename__ = "ticket_escalations"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "deadline", name="uq_ticket_escalations_lapse"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    #: accept / finish (ticketing.domain.escalation.DeadlineKind)
    kind: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[datetime]
    #: The station that let the deadline pass, and the one above it that now oversees the ticket.
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    escalated_to_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    #: Levels above the ticket's station (1 = parent).
    levels_up: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    ticket: Mapped[Ticket] = relationship()
    station: Mapped[Station] = relationship(foreign_keys=[station_id])
    escalated_to: Mapped[Station] = relationship(foreign_keys=[escalated_to_id])


class DataExport(Base):
    """Who downloaded which report with which parameters (DESIGN.md §6: log who exported)."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    report: Mapped[str] = mapped_column(String(32))
    #: json / csv / xlsx
    format: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()
