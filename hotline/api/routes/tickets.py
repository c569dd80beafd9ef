"""Tickets: create, list with filters and paging, read with history, change status."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from hotline.api.deps import ContextDep, CurrentActor, Desk, PageNumber, PageSize, SessionDep, TicketCode
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
from storage.tables import Ticket
from ticketing.domain.errors import InvalidInput
from ticketing.domain.lifecycle import TicketStatus
from ticketing.routing.labels import set_category
from ticketing.tickets import NewTicket, create_ticket, get_ticket, transition_ticket, visible_tickets

router = APIRouter(prefix="/api/tickets", tags=["tickets"])


@router.post("", status_code=201, response_model=TicketDetail, summary="Accept a ticket (受理)")
def create(body: TicketCreate, actor: Desk, session: SessionDep, context: ContextDep) -> TicketDetail:
    now = datetime.now(UTC)
    new = NewTicket(**body.model_dump())
    ticket = create_ticket(session, actor, new, context.policy, now)
    session.commit()
    return read_ticket(session, actor, ticket.code)


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
    created_from: date | None = None,
    created_to: date | None = None,
    q: Annotated[str | None, Query(max_length=100, description="code or words in the description")] = None,
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
            or_(Ticket.code.contains(pattern, autoescape=True), Ticket.description.contains(pattern, autoescape=True))
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
def read(code: TicketCode, actor: CurrentActor, session: SessionDep) -> TicketDetail:
    return read_ticket(session, actor, code)


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
    session.commit()
    return read_ticket(session, actor, code)


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
