"""What the router learns from: people's category decisions, and the models trained on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.people import User
from storage.tables.tickets import Ticket


class RoutingLabel(Base):
    """A person chose a ticket's category: training data, with who decided and what the router
    had suggested. The text is kept as it was when they decided (tickets change afterwards)."""

    __tablename__ = "routing_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(String(32))
    #: The router's best category at the time (suggested or decided), if it had routed the ticket.
    suggested: Mapped[str | None] = mapped_column(String(32))
    #: intake (chosen when the ticket was accepted) | confirmed (the router's suggestion) | corrected
    kind: Mapped[str] = mapped_column(String(16))
    #: triage | ticket | intake: where the decision was made.
    origin: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    ticket: Mapped[Ticket | None] = relationship()
    user: Mapped[User] = relationship()


class RoutingModel(Base):
    """A trained topic model, its cross-validated evaluation and the model itself (numpy arrays)."""

    __tablename__ = "routing_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: tickets | a file name: where the training questions came from.
    source: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int]
    #: candidate (kept, not used) | active (the router decides with it) | retired (was active)
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: Cross-validated figures and what they were compared with (see ticketing.routing.versions).
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON)
    activated_at: Mapped[datetime | None]
    #: The model that was active when this one was activated: where a rollback returns to.
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("routing_models.id"))
    note: Mapped[str | None] = mapped_column(Text)
    blob: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
