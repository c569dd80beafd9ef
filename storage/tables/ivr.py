"""What the IVR writes: one row per FastAGI session, and the call-back requests of virtual hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables.base import Base, utcnow


class IvrSession(Base):
    """One FastAGI session. For an inbound call `uniqueid` equals Asterisk's Linkedid, so the bridge
    finds it when it writes the Call row and copies the path and the survey score from here."""

    __tablename__ = "ivr_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(80))
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    #: [{"node": "main", "key": "1", "seconds": 4.2}, ...]: one entry per prompt the caller met.
    path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: queue:<name> / voicemail / callback / overflow / closed / blocked / hangup / error
    exit: Mapped[str] = mapped_column(String(80), default="hangup", index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    #: green:<group>, repeat, closed, blocked, nuisance, callback-duplicate, ...
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(default=0)
    recording_path: Mapped[str | None] = mapped_column(String(300))
    ticket_code: Mapped[str | None] = mapped_column(String(32))
    survey_score: Mapped[int | None]


class VirtualHoldRequest(Base):
    """Virtual hold: a caller left the queue and asked to be called back, keeping their place.

    `open_key` is "<number>|<queue>" while the request is open and NULL once it is finished, so a
    unique constraint on it keeps one open request per caller and matter on every database."""

    __tablename__ = "callback_requests"
    __table_args__ = (Index("ix_callback_requests_queue_status_arrived", "queue", "status", "arrived_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The number to call (validated Chinese number, national format without spaces).
    number: Mapped[str] = mapped_column(String(32))
    #: The caller ID the request came from (may differ from `number`).
    caller_number: Mapped[str | None] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(64))
    #: When the original call arrived: call-backs are served in this order.
    arrived_at: Mapped[datetime]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: waiting / dialling / done / failed / cancelled
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    #: After a failed attempt: not to be dialled again before this.
    retry_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: Linkedid of the call that asked for it.
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(default=0)
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True)
