"""Audit of personal-data views (who saw which caller's number, history or transcript, when), and
one list for supervisors of both views and downloads (DESIGN.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.api.deps import SessionDep, require_roles
from storage.tables import PersonalDataView
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role

router = APIRouter(prefix="/api/audit", tags=["audit"])
Supervising = Annotated[Actor, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]


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


@router.get("/views", summary="Who viewed which caller's personal data, newest first")
def views(
    _actor: Supervising,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[dict[str, Any]]:
    query = select(PersonalDataView).order_by(PersonalDataView.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(PersonalDataView.user_id == user_id)
    return [
        {
            "id": v.id,
            "at": v.at,
            "user_id": v.user_id,
            "username": v.user.username,
            "kind": v.kind,
            "subject": v.subject,
            "caller_id": v.caller_id,
            "fields": v.fields,
            "details": v.details,
        }
        for v in session.scalars(query)
    ]
