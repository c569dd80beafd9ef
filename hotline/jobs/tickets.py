"""Jobs that tell the consoles about a ticket: its events and its escalations (no personal data)."""

from __future__ import annotations

import logging
from typing import Any

from hotline.bootstrap import Context
from hotline.jobs import worker
from hotline.live.feed import append_to_feed
from storage.tables import TicketEscalation, TicketEvent

logger = logging.getLogger(__name__)


def announce_ticket_event(event_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Publish a ticket event to the feed (no personal data: codes, statuses and stations only)."""
    context = context or worker.worker_context()
    with context.sessions() as session:
        event = session.get(TicketEvent, event_id)
        if event is None:
            logger.warning("ticket event %d no longer exists; nothing to announce", event_id)
            return None
        payload = {
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
    append_to_feed(context.redis.client, payload)
    logger.info("ticket %s event %d announced", payload["code"], event_id)
    return payload


def announce_escalation(escalation_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Tell supervisors about an escalation on the feed: codes, deadlines and stations, no personal data."""
    context = context or worker.worker_context()
    with context.sessions() as session:
        escalation = session.get(TicketEscalation, escalation_id)
        if escalation is None:
            logger.warning("escalation %d no longer exists; nothing to announce", escalation_id)
            return None
        payload = {
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
    append_to_feed(context.redis.client, payload)
    logger.info("ticket %s escalation %d announced", payload["code"], escalation_id)
    return payload
