"""rq jobs: importable top-level functions that take ids and are safe to run twice."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from hotline.bootstrap import Context, build_context
from ticketing.orm import TicketEvent

logger = logging.getLogger(__name__)

#: Redis stream the consoles follow; entries carry the event id so a replay can be de-duplicated.
FEED_STREAM = "hotline:feed"
FEED_MAXLEN = 10_000


@functools.cache
def worker_context() -> Context:
    """One context per worker process, built on first use from the same settings as the service."""
    return build_context()


def announce_ticket_event(event_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Publish a ticket event to the feed (no personal data: codes, statuses and stations only)."""
    context = context or worker_context()
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
    context.redis.client.xadd(
        FEED_STREAM, {"data": json.dumps(payload, ensure_ascii=False)}, maxlen=FEED_MAXLEN, approximate=True
    )
    logger.info("ticket %s event %d announced", payload["code"], event_id)
    return payload
