"""Work orders (工单), their audit trail, code counters and call-back (回访) tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.calls import Call, Caller
from storage.tables.people import User
from storage.tables.stations import Station

ticket_calls = Table(
    "ticket_calls",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("call_id", ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: phone / voicemail / callback_request / web
    channel: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), index=True)
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id"), index=True)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    caller_name: Mapped[str | None] = mapped_column(String(64))
    #: The lawyer's own words; the ASR transcript is kept apart in `transcript`.
    description: Mapped[str] = mapped_column(Text)
    transcript: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    subcategory: Mapped[str | None] = mapped_column(String(32))
    service_line: Mapped[str | None] = mapped_column(String(32))
    #: normal / high / urgent
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    #: crisis, collective, green_channel, ...
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The router's decision: category, confidence, keywords, rules that fired.
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    accept_due_at: Mapped[datetime | None]
    finish_due_at: Mapped[datetime | None]
    assigned_lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Optimistic lock: two concurrent changes to one ticket cannot both commit.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    caller: Mapped[Caller | None] = relationship()
    station: Mapped[Station | None] = relationship()
    assigned_lawyer: Mapped[User | None] = relationship(foreign_keys=[assigned_lawyer_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    calls: Mapped[list[Call]] = relationship(secondary=ticket_calls)
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """Append-only audit of a ticket: every status change and every noteworthy act."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class TicketCodeCounter(Base):
    """Last serial handed out per day; bumped with one atomic upsert per new ticket."""

    __tablename__ = "ticket_code_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_serial: Mapped[int]


class FollowUpTask(Base):
    """回访: call the citizen back after the ticket is closed."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    #: pending / reached / unreachable / cancelled (ticketing.domain.follow_up.FollowUpStatus)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    assigned_lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    #: Optimistic lock: two lawyers recording an attempt at once cannot both settle the task.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    ticket: Mapped[Ticket] = relationship()
    assigned_lawyer: Mapped[User | None] = relationship()
    attempts: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="task", order_by="CallbackAttempt.id", cascade="all, delete-orphan"
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: reached / no_answer / busy / refused / wrong_number
    outcome: Mapped[str] = mapped_column(String(16))
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    #: The call's Asterisk Linkedid as the lawyer's console knew it, kept even before the Call row exists.
    linkedid: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)

    task: Mapped[FollowUpTask] = relationship(back_populates="attempts")
    lawyer: Mapped[User | None] = relationship()


class TicketIdempotencyKey(Base):
    """A client's `Idempotency-Key` on a create, stored with the ticket it made (same transaction), so a
    retried request gets that ticket back instead of a second one."""

    __tablename__ = "ticket_idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_ticket_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
