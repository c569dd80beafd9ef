"""Moves committed outbox rows onto rq queues. A Redis outage delays work; it never drops it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.asr.jobs import ENQUEUE_OPTIONS as TRANSCRIBE_OPTIONS
from hotline.asr.jobs import TRANSCRIBE_JOB
from storage.tables import OutboxMessage

logger = logging.getLogger(__name__)

#: rq options of the jobs that need more than rq's defaults (a long timeout, bounded retries, which
#: are also how rq runs a job again whose worker died mid-job).
JOB_OPTIONS: dict[str, dict[str, Any]] = {TRANSCRIBE_JOB: TRANSCRIBE_OPTIONS}


def relay_pending(sessions: sessionmaker[Session], connection: redis.Redis, limit: int = 200) -> int:
    """Enqueue up to `limit` undispatched messages in id order; returns how many were enqueued.

    The rq job id is derived from the row id, so a message enqueued again after a crash between
    enqueue and commit names the same job (and every job is safe to run twice anyway).
    """
    with sessions() as session, session.begin():
        pending = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dispatched_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        sent = 0
        for message in pending:
            try:
                Queue(message.queue, connection=connection).enqueue(
                    message.job, *message.args, job_id=f"outbox-{message.id}", **JOB_OPTIONS.get(message.job, {})
                )
            except redis.RedisError as exc:
                message.attempts += 1
                message.last_error = str(exc)
                logger.warning("outbox %d (%s) not enqueued, will retry: %s", message.id, message.job, exc)
                break
            message.dispatched_at = datetime.now(UTC)
            message.attempts += 1
            sent += 1
        return sent
