"""Audit of personal-data views: who saw which caller's number, history or transcript, and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import PersonalDataView
from ticketing.domain.access import Actor


def record_view(
    session: Session,
    actor: Actor,
    kind: str,
    subject: str,
    *,
    caller_id: int | None,
    fields: list[str],
    details: dict[str, Any] | None = None,
) -> bool:
    """Note that `actor` was shown personal data about `subject`; once per user, kind and subject
    (a console that refreshes a screen-pop is one look). The caller commits. Returns whether a row
    was added."""
    seen = session.scalar(
        select(PersonalDataView.id).where(
            PersonalDataView.user_id == actor.user_id,
            PersonalDataView.kind == kind,
            PersonalDataView.subject == subject,
        )
    )
    if seen is not None:
        return False
    session.add(
        PersonalDataView(
            at=datetime.now(UTC),
            user_id=actor.user_id,
            kind=kind,
            subject=subject,
            caller_id=caller_id,
            fields=fields,
            details=details or {},
        )
    )
    return True
