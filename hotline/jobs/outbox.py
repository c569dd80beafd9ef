"""Moves committed domain events from the outbox onto rq queues, each as the job events.py maps it to.

A Redis outage delays work; it never drops it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.jobs.events import job_for
from storage.tables import OutboxMessage

logger = logging.getLogger(__name__)


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
            job = job_for(message.event)
            if job is None:  # written by a newer release, or by hand: kept, and said, until a release knows it
                message.attempts += 1
                message.last_error = f"no job for event {message.event!r} (hotline/jobs/events.py)"
                logger.error("outbox %d: no job for event %r; left in the outbox", message.id, message.event)
                continue
            try:
                Queue(job.queue, connection=connection).enqueue(
                    job.function, *message.args, job_id=f"outbox-{message.id}", **job.options
                )
            except redis.RedisError as exc:
                message.attempts += 1
                message.last_error = str(exc)
                logger.warning("outbox %d (%s) not enqueued, will retry: %s", message.id, message.event, exc)
                break
            message.dispatched_at = datetime.now(UTC)
            message.attempts += 1
            sent += 1
        return sent
