"""Tickets: create, list with filters and paging, read with history, change status."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hotline.api.deps import (
    ContextDep,
    CurrentActor,
    CurrentUser,
    Desk,
    DialerDep,
    PageNumber,
    PageSize,
    SessionDep,
    TicketCode,
)
from hotline.api.dialing import originate
from hotline.api.errors import BRIDGE_RESPONSES, BridgeFailed
from hotline.api.periods import Day
from hotline.api.presenters import read_ticket, ticket_out
from hotline.api.schemas import (
    CategoryRequest,
    Channel,
    Page,
    TicketCreate,
    TicketDetail,
    TicketOut,
    TransitionRequest,
)
from hotline.consoles.audit import record_view
from storage.tables import Ticket, TicketIdempotencyKey
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidInput
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import sees_in_full
from ticketing.routing.labels import set_category
from ticketing.tickets import NewTicket, create_ticket, get_ticket, record_event, transition_ticket, visible_tickets

router = APIRouter(prefix="/api/tickets", tags=["tickets"])


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,200}$",
        description="any unique string (a UUID); a retry with the same key returns the ticket the first request made",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=TicketDetail,
    summary="Accept a ticket (受理)",
    responses={
        422: {"description": "invalid fields, an unknown category or call"},
        503: {"description": "the database is unavailable; retry with the same Idempotency-Key"},
    },
)
def create(
    body: TicketCreate,
    actor: Desk,
    session: SessionDep,
    context: ContextDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketDetail:
    if idempotency_key is not None:
        earlier = _ticket_for_key(session, actor, idempotency_key)
        if earlier is not None:
            response.headers["Idempotent-Replayed"] = "true"
            return read_ticket(session, actor, earlier)
    now = datetime.now(UTC)
    new = NewTicket(**body.model_dump())
    try:
        ticket = create_ticket(session, actor, new, context.policy, now)
        if "crisis" in (ticket.flags or []):  # the lawyer marked it 危机: supervisors are alerted at once
            record_event(
                session, ticket, actor, "alert", ticket.status, now, note="律师标记危机 / marked crisis by the lawyer"
            )
        if idempotency_key is not None:
            session.add(TicketIdempotencyKey(user_id=actor.user_id, key=idempotency_key, ticket_id=ticket.id))
            session.flush()
        # The answer is read inside the transaction: once the commit succeeds nothing else can fail,
        # so a saved ticket is never reported as an error.
        detail = read_ticket(session, actor, ticket.code)
        session.commit()
    except IntegrityError:
        session.rollback()  # the same key, committed by a concurrent retry: answer with its ticket
        earlier = _ticket_for_key(session, actor, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        response.headers["Idempotent-Replayed"] = "true"
        return read_ticket(session, actor, earlier)
    return detail


def _ticket_for_key(session: Session, actor: Actor, key: str) -> str | None:
    return session.scalar(
        select(Ticket.code)
        .join(TicketIdempotencyKey, TicketIdempotencyKey.ticket_id == Ticket.id)
        .where(TicketIdempotencyKey.user_id == actor.user_id, TicketIdempotencyKey.key == key)
    )


@router.get("", response_model=Page, summary="List tickets the caller may see")
def list_tickets(
    actor: CurrentActor,
    session: SessionDep,
    context: ContextDep,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    channel: Channel | None = None,
    station_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    mine: bool = False,
    created_from: Day | None = None,
    created_to: Day | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="code, caller's number or name, or words in the description")
    ] = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Page:
    query = visible_tickets(actor)
    if status:
        query = query.where(Ticket.status.in_([s.value for s in status]))
    if category:
        query = query.where(Ticket.category == category)
    if channel:
        query = query.where(Ticket.channel == channel)
    if station_id:
        query = query.where(Ticket.station_id == station_id)
    if mine:
        query = query.where(Ticket.assigned_lawyer_id == actor.user_id)
    tz = context.policy.tz  # days are local days, as in every report
    if created_from:
        query = query.where(Ticket.created_at >= datetime.combine(created_from, time(0), tzinfo=tz).astimezone(UTC))
    if created_to:
        day_after = datetime.combine(created_to + timedelta(days=1), time(0), tzinfo=tz)
        query = query.where(Ticket.created_at < day_after.astimezone(UTC))
    if q:
        pattern = q.replace("\x00", "")
        query = query.where(
            or_(
                Ticket.code.contains(pattern, autoescape=True),
                Ticket.description.contains(pattern, autoescape=True),
                Ticket.caller_number.contains(pattern, autoescape=True),
                Ticket.caller_name.contains(pattern, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Ticket.station))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [TicketOut(**ticket_out(t, actor)) for t in rows]  # type: ignore[arg-type]
    return Page(total=total, page=page, page_size=page_size, items=items)


@router.get("/{code}", response_model=TicketDetail, summary="One ticket with its full history")
def read(code: TicketCode, actor: CurrentActor, session: SessionDep, context: ContextDep) -> TicketDetail:
    detail = read_ticket(session, actor, code, context.policy.tz)
    # A caller's full number or the call's transcript on screen is a look at personal data: audited once.
    shown = [f for f in ("caller_number", "transcript") if getattr(detail, f) and sees_in_full(actor.role)]
    caller = session.scalar(select(Ticket.caller_id).where(Ticket.code == code)) if shown else None
    if shown and record_view(session, actor, "ticket", code, caller_id=caller, fields=shown):
        session.commit()
    return detail


@router.post(
    "/{code}/transitions",
    response_model=TicketDetail,
    summary="Change a ticket's status",
    responses={409: {"description": "not allowed from the current status; details list the allowed next states"}},
)
def transition(
    code: TicketCode, body: TransitionRequest, actor: CurrentActor, session: SessionDep, context: ContextDep
) -> TicketDetail:
    ticket = get_ticket(session, actor, code, for_update=True)
    transition_ticket(
        session,
        actor,
        ticket,
        body.to,
        context.policy,
        datetime.now(UTC),
        station_id=body.station_id,
        reason=body.reason,
        result=body.result,
        note=body.note,
    )
    if body.to is TicketStatus.FORWARDED:  # the answer names the station it now goes to
        session.flush()
        session.refresh(ticket, attribute_names=["station"])
    detail = read_ticket(session, actor, code, context.policy.tz)  # before the commit, as in create
    session.commit()
    return detail


@router.post(
    "/{code}/category",
    response_model=TicketDetail,
    summary="Set or confirm a ticket's category (on the ticket or in triage); kept as the router's training data",
)
def categorise(
    code: TicketCode, body: CategoryRequest, actor: Desk, session: SessionDep, context: ContextDep
) -> TicketDetail:
    known = {c.name: c for c in context.config.categories.categories}
    if body.category in known and body.subcategory and body.subcategory not in known[body.category].subcategories:
        raise InvalidInput(
            f"未知子类 / {body.subcategory} is not a subcategory of {body.category}", subcategory=body.subcategory
        )
    ticket = get_ticket(session, actor, code, for_update=True)
    set_category(
        session, actor, ticket, body.category, body.subcategory, datetime.now(UTC), known=known, origin=body.origin
    )
    session.commit()
    return read_ticket(session, actor, code)


@router.post(
    "/{code}/dial",
    summary="Call the citizen about this ticket through the bridge: your phone rings, then theirs",
    responses={**BRIDGE_RESPONSES, 422: {"description": "your account has no phone, or the ticket no number"}},
)
def dial_citizen(
    code: TicketCode, actor: CurrentActor, user: CurrentUser, session: SessionDep, dialer: DialerDep
) -> dict[str, object]:
    """Station staff reach the citizen without ever seeing the number (it stays masked for them);
    the call is written on the ticket's history with who placed it."""
    ticket = get_ticket(session, actor, code, for_update=True)
    if not user.interface:
        raise BridgeFailed(
            422, "not_dialable", "您的账号未配置话机，请联系管理员 / your account has no phone interface; ask an admin"
        )
    if not ticket.caller_number:
        raise BridgeFailed(422, "not_dialable", f"工单 {code} 没有来电号码 / the ticket has no caller number")
    call_id = originate(dialer, user.interface, ticket.caller_number, {"HOTLINE_TICKET": code})
    record_event(session, ticket, actor, "dial", ticket.status, datetime.now(UTC), data={"call_id": call_id})
    session.commit()
    return {"ticket_code": code, "call_id": call_id, "interface": user.interface}
