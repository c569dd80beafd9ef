"""The audit of personal-data views for supervisors (DESIGN.md §6); views are recorded by
hotline/consoles/audit.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from hotline.api.deps import SessionDep, Supervising
from hotline.api.schemas import PersonalDataViewOut
from storage.tables import PersonalDataView

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get(
    "/views", response_model=list[PersonalDataViewOut], summary="Who viewed which caller's personal data, newest first"
)
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
