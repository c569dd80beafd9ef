"""Records domain events in the outbox, in the caller's transaction: they reach the jobs after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.tables import OutboxMessage
from ticketing.domain.events import DomainEvent


def emit(session: Session, event: DomainEvent, now: datetime | None = None) -> OutboxMessage:
    """Add `event` to the outbox; it commits, or rolls back, with the change that caused it."""
    message = OutboxMessage(event=event.name, args=event.args())
    if now is not None:
        message.created_at = now
    session.add(message)
    return message
