"""Domain events that must reach the job queue, written in the transaction of the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A domain event's name, e.g. "ticket.event_recorded"; hotline/jobs/events.py maps it to its job.
    #: (The column keeps its first name, "job": rows written before events had names hold a job path.)
    event: Mapped[str] = mapped_column("job", String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Not read: the relay takes the queue from the event's job (hotline/jobs/events.py).
    queue: Mapped[str] = mapped_column(String(32), default="default")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When it was last handed to rq (None: never yet).
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)
    #: How many times it was handed to rq.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Written when its job has run to the end (its rq success callback, hotline.outbox.job_completed): until then
    #: the message is owed, and the relay sends it again once `redeliver_at` passes.
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    redeliver_at: Mapped[datetime | None] = mapped_column(index=True)
    #: Given up after its bounded attempts; listed by /api/health.
    failed_at: Mapped[datetime | None] = mapped_column()
