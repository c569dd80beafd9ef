"""Periodic jobs, enqueued by the scheduler (scheduler.py): the 督办 sweep, the retention purge and the
KPI rollup rebuild."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.bootstrap import Context
from hotline.jobs import worker

logger = logging.getLogger(__name__)


def escalate_overdue_tickets(context: Context | None = None) -> int:
    """督办 sweep: escalate every lapsed accept/finish deadline once (safe to run twice or in parallel)."""
    from ticketing.escalation import escalate_overdue

    context = context or worker.worker_context()
    created = escalate_overdue(context.sessions, datetime.now(UTC))
    if created:
        logger.info("escalated %d lapsed deadlines", len(created))
    return len(created)


def purge_personal_data(context: Context | None = None) -> dict[str, Any]:
    """Hourly: delete recordings and transcripts past the retention period (hotline.retention)."""
    from hotline.retention import purge

    context = context or worker.worker_context()
    days = context.settings.retention_days
    if not days:
        return {"skipped": "HOTLINE_RETENTION_DAYS=0 keeps recordings and transcripts"}
    report = purge(context.sessions, datetime.now(UTC), days, context.settings.recordings_dir)
    return {"calls": report.calls, "transcripts": report.transcripts, "files_deleted": report.files_deleted}


def rebuild_recent_kpis(context: Context | None = None) -> dict[str, Any]:
    """Hourly: recompute the KPI rollup of the last 26 hours from the calls (a safety net under the
    bridges' incremental refresh: late resyncs, imported calls, a threshold change)."""
    from hotline.reports.kpi import rebuild

    context = context or worker.worker_context()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=27)
    with context.sessions.begin() as session:
        rebuild(session, start, end, context.settings.sl_threshold_seconds)
    return {"from": start.isoformat(), "to": end.isoformat()}
