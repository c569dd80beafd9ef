"""Route a ticket: store the router's decision on it and fill in what nobody has chosen yet.

The decision goes to `tickets.routing` whole (category, confidence, keywords, flags, station with
the rule that chose it). Category, subcategory and service line are filled only where the ticket
has none, so a lawyer's choice is never overwritten; priority is only ever raised and flags only
added. The suggested station stays in `routing["station"]`: setting `station_id` would show the
ticket to that station's staff before anyone forwarded it. Routing again with the same outcome
changes nothing, so the job is safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.tables import Station, Ticket
from ticketing.domain.errors import UnroutableText
from ticketing.domain.routing import NEEDS_TRIAGE, KeywordRouter, RoutingDecision
from ticketing.tickets import record_event

logger = logging.getLogger(__name__)

PRIORITY_ORDER = ("normal", "high", "urgent")


def ticket_text(ticket: Ticket) -> str:
    """What the router reads: the lawyer's description and the call's transcript."""
    return "\n".join(part for part in (ticket.description, ticket.transcript) if part)


def decision_payload(session: Session, decision: RoutingDecision) -> dict[str, Any]:
    """The decision as stored and shown, with the suggested station's id in the stations table."""
    payload = decision.to_dict()
    code = payload["station"]["code"]
    payload["station"]["id"] = session.scalar(select(Station.id).where(Station.division_code == code))
    return payload


def route_ticket(session: Session, router: KeywordRouter, ticket: Ticket, now: datetime) -> bool:
    """Route `ticket` (locked by the caller); returns whether anything changed."""
    try:
        decision = router.route(
            ticket_text(ticket),
            caller_number=ticket.caller_number,
            caller_division=ticket.caller.division_code if ticket.caller else None,
        )
    except UnroutableText as exc:
        return _refused(session, ticket, exc, now)
    payload = decision_payload(session, decision)
    previous = dict(ticket.routing or {})
    previous.pop("routed_at", None)
    changes = _fill_in(ticket, decision)
    if previous == payload and not changes:
        logger.info("ticket %s routed again: same decision, nothing changed", ticket.code)
        return False
    ticket.routing = {**payload, "routed_at": now.isoformat()}
    ticket.updated_at = now
    summary = {
        "category": payload["category"],
        "confidence": payload["confidence"],
        "station": payload["station"]["code"],
        "changes": changes,
    }
    record_event(session, ticket, None, "route", ticket.status, now, note=decision.explanation()[:2000], data=summary)
    if "flags" in changes and "crisis" in changes["flags"]:
        words = "、".join(decision.flags.reasons.get("crisis", []))
        record_event(
            session, ticket, None, "alert", ticket.status, now, note=f"危机情形 / crisis: {words}", data=summary
        )
        logger.warning("ticket %s: crisis words, supervisors alerted", ticket.code)
    logger.info("ticket %s routed: %s (%s), changes %s", ticket.code, payload["category"], payload["rule"], changes)
    return True


def _refused(session: Session, ticket: Ticket, exc: UnroutableText, now: datetime) -> bool:
    """Nothing to read in the ticket: it waits in triage for a person, with the reason shown."""
    if (ticket.routing or {}).get("rule") == exc.error_id:
        return False
    ticket.routing = {
        "category": NEEDS_TRIAGE,
        "needs_triage": True,
        "rule": exc.error_id,
        "error": exc.message,
        "flags": [],
        "routed_at": now.isoformat(),
    }
    ticket.updated_at = now
    record_event(session, ticket, None, "route", ticket.status, now, note=exc.message, data={"refused": exc.error_id})
    logger.info("ticket %s not routed: %s", ticket.code, exc.error_id)
    return True


def _fill_in(ticket: Ticket, decision: RoutingDecision) -> dict[str, Any]:
    c = decision.classification
    changes: dict[str, Any] = {}
    if ticket.category is None and not c.needs_triage:
        ticket.category = changes["category"] = c.category
        if ticket.subcategory is None and c.subcategory:
            ticket.subcategory = changes["subcategory"] = c.subcategory
    if ticket.service_line is None:
        ticket.service_line = changes["service_line"] = c.service_line
    current = ticket.priority if ticket.priority in PRIORITY_ORDER else "normal"
    if PRIORITY_ORDER.index(decision.flags.priority) > PRIORITY_ORDER.index(current):
        ticket.priority = changes["priority"] = decision.flags.priority
    added = [f for f in decision.flags.flags if f not in (ticket.flags or [])]
    if added:
        ticket.flags = [*(ticket.flags or []), *added]
        changes["flags"] = added
    return changes


def triage_tickets() -> Select[tuple[Ticket]]:
    """Tickets waiting for a person to choose their category (the router was not sure enough)."""
    return select(Ticket).where(Ticket.category.is_(None)).order_by(Ticket.created_at)
