"""Preview the router's decision for the lawyers' ticket form (nothing is stored)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from hotline.api.deps import ContextDep, Desk, SessionDep
from hotline.api.schemas import Body, Description, PhoneNumber
from storage.tables import Caller
from ticketing.domain.roles import phone_as_seen_by
from ticketing.routing.service import decision_payload

router = APIRouter(prefix="/api/route", tags=["routing"])


class RouteRequest(Body):
    text: Description
    caller_number: PhoneNumber | None = None


@router.post("", summary="Suggest category, service line, flags and station for a text (分类预览)")
def preview(body: RouteRequest, actor: Desk, session: SessionDep, context: ContextDep) -> dict[str, Any]:
    division = None
    if body.caller_number:
        division = session.scalar(select(Caller.division_code).where(Caller.number == body.caller_number))
    decision = context.router.route(body.text, caller_number=body.caller_number, caller_division=division)
    number = body.caller_number
    return {
        **decision_payload(session, decision),
        "caller_number": phone_as_seen_by(actor.role, number),
    }
