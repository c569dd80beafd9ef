"""rq jobs: importable top-level functions that take ids and are safe to run twice."""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, datetime
from typing import Any

from hotline.bootstrap import Context, build_context
from ticketing.orm import TicketEscalation, TicketEvent

logger = logging.getLogger(__name__)

#: Redis stream the consoles follow; entries carry the event id so a replay can be de-duplicated.
FEED_STREAM = "hotline:feed"
FEED_MAXLEN = 10_000


@functools.cache
def worker_context() -> Context:
    """One context per worker process, built on first use from the same settings as the service."""
    return build_context()


def publish_feed(context: Context, payload: dict[str, Any]) -> None:
    """Append one message to the consoles' feed stream (callers make sure it holds no personal data)."""
    context.redis.client.xadd(
        FEED_STREAM, {"data": json.dumps(payload, ensure_ascii=False)}, maxlen=FEED_MAXLEN, approximate=True
    )


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
    publish_feed(context, payload)
    logger.info("ticket %s event %d announced", payload["code"], event_id)
    return payload


def escalate_overdue_tickets(context: Context | None = None) -> int:
    """督办 sweep: escalate every lapsed accept/finish deadline once (safe to run twice or in parallel)."""
    from ticketing.escalation import escalate_overdue

    context = context or worker_context()
    created = escalate_overdue(context.sessions, datetime.now(UTC))
    if created:
        logger.info("escalated %d lapsed deadlines", len(created))
    return len(created)


def purge_personal_data(context: Context | None = None) -> dict[str, Any]:
    """Hourly: delete recordings and transcripts past the retention period (hotline.retention)."""
    from hotline.retention import purge

    context = context or worker_context()
    days = context.settings.retention_days
    if not days:
        return {"skipped": "HOTLINE_RETENTION_DAYS=0 keeps recordings and transcripts"}
    report = purge(context.sessions, datetime.now(UTC), days)
    return {"calls": report.calls, "transcripts": report.transcripts, "files_deleted": report.files_deleted}


def announce_escalation(escalation_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Tell supervisors about an escalation on the feed: codes, deadlines and stations, no personal data."""
    context = context or worker_context()
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
    publish_feed(context, payload)
    logger.info("ticket %s escalation %d announced", payload["code"], escalation_id)
    return payload


def rebuild_recent_kpis(context: Context | None = None) -> dict[str, Any]:
    """Hourly: recompute the KPI rollup of the last 26 hours from the calls (a safety net under the
    bridges' incremental refresh: late resyncs, imported calls, a threshold change)."""
    from datetime import timedelta

    from hotline.kpi import rebuild

    context = context or worker_context()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=27)
    with context.sessions.begin() as session:
        rebuild(session, start, end, context.settings.sl_threshold_seconds)
    return {"from": start.isoformat(), "to": end.isoformat()}
