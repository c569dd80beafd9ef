"""Moves committed domain events from the outbox onto rq queues, each as the job events.py maps it to,
at least once, until each job has completed.

A message is owed from the commit that wrote it until its job has run to the end: the job's success
callback (`job_completed`) pushes the message's id onto a Redis list, and the relay's next pass records
`completed_at` for every id it pops, in one UPDATE (a database commit per job was an eighth of a
worker's time). Until then the relay looks at the message again whenever `redeliver_at` passes and asks
rq where the job is:

- waiting in its queue, or running on a worker that is alive: not lost; look again later;
- gone (Redis restarted without persistence, or was flushed), failed after rq's own retries, or
  started by a worker that died (its heartbeat key expired): sent again, as a new rq job;
- finished: completed (the callback's confirmation says so; the relay records it too if that got lost
  with Redis).

Every message is sent at most MAX_DISPATCHES times, then marked failed and reported by /api/health.
Jobs are written to be safe to run twice, so a message sent again after a lost confirmation does no
harm: every job runs exactly once in effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from rq import Callback, Queue, Retry
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.jobs.events import job_for
from storage.tables import OutboxMessage

logger = logging.getLogger(__name__)

#: Every job kind gets bounded retries from rq itself (a database outage of a few seconds, a deadlock).
DEFAULT_RETRY = Retry(max=3, interval=[2, 10, 30])
#: rq options of every job; a job's own (hotline/jobs/events.py) take precedence.
DEFAULT_OPTIONS: dict[str, Any] = {"job_timeout": 120, "retry": DEFAULT_RETRY}
#: How long after sending the relay first looks whether a job is still on its way. Short, because the
#: look is cheap and a lost queue should be noticed soon; a job still queued or running is simply
#: looked at again after the same time.
CHECK_AFTER_S = 10.0
#: Sends of one message before it is given up (and shown as failed in /api/health).
MAX_DISPATCHES = 5
#: Workers refresh `hotline:worker:<name>:alive` (hotline.jobs.pool) this often, with this lifetime: a
#: job started by a worker whose key has expired was abandoned.
WORKER_ALIVE_KEY = "hotline:worker:{name}:alive"
COMPLETED_CALLBACK = "hotline.jobs.outbox.job_completed"
#: Ids of messages whose job completed, pushed by the workers and popped by the relay.
COMPLETED_KEY = "hotline:outbox:completed"
#: Confirmations the relay records per pass.
COMPLETED_BATCH = 5000
#: Pause between relay passes that found less than a full batch: an idle pass is one indexed query
#: and one Redis pop, and the pause is most of a message's wait between commit and rq.
RELAY_INTERVAL_S = 0.2
RELAY_BATCH = 500
#: A retry scheduled this long ago and still not back in its queue has no scheduler to move it.
SCHEDULE_GRACE_S = 20.0


def options_for(event: str) -> dict[str, Any]:
    """The rq options of the job `event` starts: bounded retries and a timeout for every one."""
    job = job_for(event)
    return {**DEFAULT_OPTIONS, **(job.options if job else {})}


def rq_job_id(message_id: int, dispatch: int) -> str:
    """One rq job per send: a message sent again never collides with its earlier, failed job."""
    return f"outbox-{message_id}" if dispatch <= 1 else f"outbox-{message_id}-{dispatch}"


def job_completed(job: Any, connection: redis.Redis, _result: Any) -> None:
    """rq success callback, in the worker: confirm the message of `job`. One Redis push, no database
    round trip; lost with Redis, the relay finds the job finished (or gone, and runs it again: jobs are
    safe to run twice)."""
    message_id = job.meta.get("outbox_id")
    if message_id is not None:
        connection.rpush(COMPLETED_KEY, int(message_id))


def record_completions(session: Session, connection: redis.Redis, now: datetime) -> int:
    """Record the confirmations the workers pushed since the last pass; returns how many."""
    popped = connection.lpop(COMPLETED_KEY, COMPLETED_BATCH) or []
    ids = sorted({int(i) for i in popped})
    if not ids:
        return 0
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.completed_at.is_(None))
        .values(completed_at=now, redeliver_at=None)
    )
    return len(ids)


@dataclass(frozen=True)
class JobState:
    #: "waiting", "running", "finished", "lost" (missing, failed, stopped, or its worker died)
    where: str
    detail: str = ""


def job_states(connection: redis.Redis, job_ids: list[str]) -> dict[str, JobState]:
    """Where rq has each job, in a few round trips whatever their number.

    A job rq calls queued must also be in its queue's list: a worker that died just after taking it
    (into rq's intermediate list) leaves it queued in name only.
    """
    if not job_ids:
        return {}
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(f"rq:job:{job_id}", "status", "worker_name", "origin")
        rows = [tuple((v or b"").decode() for v in row) for row in pipe.execute()]
    started = sorted({worker for status, worker, _ in rows if status == "started" and worker})
    by_status = {
        status: [(job_id, origin) for job_id, (s, _, origin) in zip(job_ids, rows, strict=True) if s == status]
        for status in ("queued", "scheduled")
    }
    with connection.pipeline(transaction=False) as pipe:
        for name in started:
            pipe.exists(WORKER_ALIVE_KEY.format(name=name))
        for job_id, origin in by_status["queued"]:
            pipe.lpos(f"rq:queue:{origin}", job_id)
        for job_id, origin in by_status["scheduled"]:
            pipe.zscore(f"rq:scheduled:{origin}", job_id)
        answers = iter(pipe.execute())
    alive = {name: bool(next(answers)) for name in started}
    listed = {job_id: next(answers) is not None for job_id, _ in by_status["queued"]}
    # A retry whose time has long passed was not moved back to its queue: no scheduler is running
    # (the worker holding rq's scheduler lock died); send it again rather than wait for rq to notice.
    overdue_before = time.time() - SCHEDULE_GRACE_S
    on_time = {
        job_id: (at := next(answers)) is not None and at >= overdue_before for job_id, _ in by_status["scheduled"]
    }
    states = {}
    for job_id, (status, worker, _origin) in zip(job_ids, rows, strict=True):
        if not status:
            states[job_id] = JobState("lost", "not in Redis (restarted or flushed)")
        elif status == "queued":
            states[job_id] = JobState("waiting") if listed[job_id] else JobState("lost", "queued in no queue")
        elif status == "scheduled":
            states[job_id] = JobState("waiting") if on_time[job_id] else JobState("lost", "retry overdue: no scheduler")
        elif status == "deferred":
            states[job_id] = JobState("waiting")
        elif status == "started":
            states[job_id] = JobState("running") if alive.get(worker) else JobState("lost", f"worker {worker} died")
        elif status == "finished":
            states[job_id] = JobState("finished")
        else:
            states[job_id] = JobState("lost", f"rq status {status}")
    return states


def relay_pending(
    sessions: sessionmaker[Session], connection: redis.Redis, limit: int = 500, now: datetime | None = None
) -> int:
    """Record the jobs' confirmations, then send up to `limit` owed messages that are due, in id order,
    in one Redis round trip (rq's `enqueue_many` on a pipeline); returns how many were sent.

    Due: never sent, or sent and not completed by `redeliver_at`. The rq job id is derived from the
    row id and its send count, so a message enqueued again after a crash between enqueue and commit
    names the same job.
    """
    now = now or datetime.now(UTC)
    with sessions() as session, session.begin():
        with contextlib.suppress(redis.RedisError):  # Redis away: said below, with the messages that wait
            record_completions(session, connection, now)
        due = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.completed_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                or_(
                    OutboxMessage.dispatched_at.is_(None) & OutboxMessage.redeliver_at.is_(None),
                    OutboxMessage.redeliver_at <= now,
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return 0
        check_at = now + timedelta(seconds=CHECK_AFTER_S)
        sent_before = [m for m in due if m.dispatched_at is not None]
        try:
            states = job_states(connection, [rq_job_id(m.id, m.attempts) for m in sent_before])
        except redis.RedisError as exc:
            logger.warning("outbox: Redis unavailable, %d messages wait (%s)", len(due), exc)
            return 0
        to_send: dict[str, list[tuple[OutboxMessage, Any]]] = {}
        for message in due:
            job = job_for(message.event)
            if job is None:  # written by a newer release, or by hand: kept, and said, until a release knows it
                message.last_error = f"no job for event {message.event!r} (hotline/jobs/events.py)"
                message.redeliver_at = check_at
                logger.error("outbox %d: no job for event %r; left in the outbox", message.id, message.event)
                continue
            if message.dispatched_at is not None:
                state = states[rq_job_id(message.id, message.attempts)]
                if state.where in ("waiting", "running"):
                    message.redeliver_at = check_at
                    continue
                if state.where == "finished":
                    message.completed_at, message.redeliver_at = now, None
                    continue
                if message.attempts >= MAX_DISPATCHES:
                    message.failed_at, message.redeliver_at = now, None
                    message.last_error = f"gave up after {message.attempts} sends: {state.detail}"
                    logger.error("outbox %d (%s) failed for good: %s", message.id, message.event, message.last_error)
                    continue
                logger.warning(
                    "outbox %d (%s) not completed (%s): sending again", message.id, message.event, state.detail
                )
            options = options_for(message.event)
            data = Queue.prepare_data(
                job.function,
                args=list(message.args),
                job_id=rq_job_id(message.id, message.attempts + 1),
                meta={"outbox_id": message.id},
                on_success=Callback(COMPLETED_CALLBACK),
                timeout=options.pop("job_timeout", None),  # enqueue()'s name for prepare_data()'s `timeout`
                **options,
            )
            to_send.setdefault(job.queue, []).append((message, data))
        if not to_send:
            return 0
        try:
            with connection.pipeline() as pipe:
                for name, items in to_send.items():
                    Queue(name, connection=connection).enqueue_many([data for _m, data in items], pipeline=pipe)
                pipe.execute()
        except redis.RedisError as exc:
            for items in to_send.values():
                for message, _data in items:
                    message.last_error = str(exc)
            logger.warning("outbox: %d messages not enqueued, will retry: %s", sum(map(len, to_send.values())), exc)
            return 0
        sent = 0
        for items in to_send.values():
            for message, _data in items:
                message.dispatched_at = now
                message.redeliver_at = check_at
                message.attempts += 1
                sent += 1
        return sent


async def relay_forever(sessions: sessionmaker[Session], connection: redis.Redis) -> None:
    """Relay until cancelled: a pass every RELAY_INTERVAL_S, at once again after a full batch."""
    while True:
        sent = 0
        try:
            sent = await asyncio.to_thread(relay_pending, sessions, connection, RELAY_BATCH)
        except Exception:
            logger.exception("outbox relay pass failed; retrying")
        if sent < RELAY_BATCH:  # a full batch: more are waiting, send them at once
            await asyncio.sleep(RELAY_INTERVAL_S)


def owed(session: Session, now: datetime) -> dict[str, Any]:
    """What /api/health shows of the outbox: messages owed, the oldest one's age, failed ones."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.completed_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    ).one()
    failed = session.scalar(select(func.count()).where(OutboxMessage.failed_at.is_not(None))) or 0
    age = None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 1)
    return {"owed": int(count or 0), "oldest_owed_s": age, "failed": int(failed)}
