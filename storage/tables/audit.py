"""Audit of who looked at personal data (DESIGN.md §6): caller numbers, call history, transcripts.

Downloads are in `data_exports`; this table holds the views: a lawyer's screen-pop of a caller, a
caller's history opened from the console. One row per look, written in the request that showed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.people import User


class PersonalDataView(Base):
    __tablename__ = "personal_data_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: What was shown: screen_pop, caller_history, ...
    kind: Mapped[str] = mapped_column(String(32))
    #: The call's Linkedid or the ticket code the view was about.
    subject: Mapped[str] = mapped_column(String(64))
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id"), index=True)
    #: Which personal fields were shown in full (caller_number, transcript, ...).
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship()
