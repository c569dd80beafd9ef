"""Periodic jobs (the 督办 sweep every minute), enqueued on rq by a loop every service process runs.

Several API processes may run the loop at once: each run of a job owns a time slot, and a Redis
`SET NX` on the slot's key lets exactly one process enqueue it. The jobs are safe to run twice
anyway, and a slot missed while Redis was down is made up by the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue, Retry

from hotline.bootstrap import Context
from hotline.jobs.periodic import escalate_overdue_tickets, purge_personal_data

logger = logging.getLogger(__name__)

#: How often the loop looks for a due slot; the jobs' own periods are in PERIODIC_JOBS.
TICK_S = 5.0


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    #: An importable job function that takes no arguments.
    job: Callable[[], Any]
    every_s: int
    #: Sweeps have their own queue, first in every worker's list: never behind the routing backlog.
    queue: str = "sweeps"


PERIODIC_JOBS = (
    PeriodicJob("escalate-overdue", escalate_overdue_tickets, 60),
    PeriodicJob("purge-personal-data", purge_personal_data, 3600),
)


def slot_key(job: PeriodicJob, slot: int) -> str:
    return f"hotline:schedule:{job.name}:{slot}"


def enqueue_due(connection: redis.Redis, now: float, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS) -> list[str]:
    """Enqueue each job whose current slot nobody has claimed yet; returns the rq job ids enqueued."""
    enqueued = []
    for job in jobs:
        slot = int(now // job.every_s)
        if not connection.set(slot_key(job, slot), "1", nx=True, ex=job.every_s * 3):
            continue  # another process (or an earlier tick of this one) has this slot
        job_id = f"{job.name}-{slot}"
        # Without a worker the queue must not fill with stale sweeps: a run waits at most a few periods.
        Queue(job.queue, connection=connection).enqueue(
            job.job, job_id=job_id, ttl=job.every_s * 5, retry=Retry(max=2, interval=[5, 20]), job_timeout=job.every_s
        )
        enqueued.append(job_id)
        logger.debug("periodic job %s enqueued", job_id)
    return enqueued


async def schedule_forever(context: Context, tick_s: float = TICK_S) -> None:
    while True:
        try:
            await asyncio.to_thread(enqueue_due, context.redis.client, time.time())
        except Exception:
            logger.exception("periodic job scheduling failed; retrying in %.0f s", tick_s)
        await asyncio.sleep(tick_s)
