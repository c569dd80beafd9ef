"""Jobs that tell the consoles about a ticket: its events and its escalations (no personal data)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import joinedload

from hotline.bootstrap import Context
from hotline.jobs import worker
from hotline.live.feed import append_to_feed
from storage.tables import TicketEscalation, TicketEvent

logger = logging.getLogger(__name__)

Row = TypeVar("Row", TicketEvent, TicketEscalation)


def _announce(
    context: Context | None, table: type[Row], row_id: int, what: str, payload_of: Callable[[Row], dict[str, Any]]
) -> dict[str, Any] | None:
    """Read one row, publish what `payload_of` makes of it to the feed; safe to run twice (a row that is
    gone is logged and skipped)."""
    context = context or worker.worker_context()
    with context.sessions() as session:
        row = session.get(table, row_id, options=[joinedload(table.ticket)])  # one query, not two
        if row is None:
            logger.warning("%s %d no longer exists; nothing to announce", what, row_id)
            return None
        payload = payload_of(row)
    append_to_feed(context.redis.client, payload)
    logger.info("ticket %s %s %d announced", payload["code"], what, row_id)
    return payload


def _event_payload(event: TicketEvent) -> dict[str, Any]:
    return {
        "type": "ticket.event",
        "event_id": event.id,
        "code": event.ticket.code,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "station_id": event.ticket.station_id,
        "priority": event.ticket.priority,
        "at": event.at.isoformat(),
    }


def _escalation_payload(escalation: TicketEscalation) -> dict[str, Any]:
    return {
        "type": "ticket.escalated",
        "audience": "supervisor",
        "escalation_id": escalation.id,
        "code": escalation.ticket.code,
        "kind": escalation.kind,
        "deadline": escalation.deadline.isoformat(),
        "status": escalation.ticket.status,
        "priority": escalation.ticket.priority,
        "station_id": escalation.station_id,
        "escalated_to_id": escalation.escalated_to_id,
        "levels_up": escalation.levels_up,
        "at": escalation.at.isoformat(),
    }


def announce_ticket_event(event_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Publish a ticket event to the feed (no personal data: codes, statuses and stations only)."""
    return _announce(context, TicketEvent, event_id, "event", _event_payload)


def announce_escalation(escalation_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Tell supervisors about an escalation on the feed: codes, deadlines and stations, no personal data."""
    return _announce(context, TicketEscalation, escalation_id, "escalation", _escalation_payload)
