"""Periodic jobs (the 督办 sweep every minute, the retention purge and the KPI rollup rebuild every
hour), run once across the cluster.

Any number of schedulers may run (`hotline scheduler` on two machines, or the loop inside `hotline
serve`): they elect one through a lease in Redis (hotline.lease), and only the holder enqueues.
When the holder dies its lease lapses after HOTLINE_SCHEDULER_LEASE_SECONDS and another instance
takes over. Each run owns a time slot: a Redis `SET NX` on the slot's key keeps a second enqueue
out, and the job itself claims (job, slot) in the `periodic_runs` table before doing anything, so
even two schedulers that both believe they hold the lease (a Redis failover lost the lease key)
run each slot once. A slot missed during a takeover is made up by the next one: the sweeps catch
up on everything that lapsed.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from rq import Queue, Retry
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hotline.jobs.periodic import escalate_overdue_tickets, purge_personal_data, rebuild_recent_kpis
from hotline.lease import RedisLease
from storage.tables import PeriodicRun

if TYPE_CHECKING:
    from hotline.bootstrap import Context

logger = logging.getLogger(__name__)

#: How often the loop looks for a due slot; the jobs' own periods are in PERIODIC_JOBS.
TICK_S = 5.0
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    #: An importable job function taking an optional `context` (or its dotted path).
    job: Callable[..., Any] | str
    every_s: int
    #: Sweeps have their own queue, first in every worker's list: never behind the routing backlog.
    queue: str = "sweeps"

    @property
    def target(self) -> str:
        """The job function's dotted path, which the run carries to the worker."""
        if isinstance(self.job, str):
            return self.job
        return f"{self.job.__module__}.{self.job.__qualname__}"


PERIODIC_JOBS = (
    PeriodicJob("escalate-overdue", escalate_overdue_tickets, 60),
    PeriodicJob("purge-personal-data", purge_personal_data, 3600),
    PeriodicJob("rebuild-kpi-rollup", rebuild_recent_kpis, 3600),
)


def slot_key(job: PeriodicJob, slot: int) -> str:
    return f"hotline:schedule:{job.name}:{slot}"


def enqueue_due(
    connection: redis.Redis, now: float, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS, scheduled_by: str = "-"
) -> list[str]:
    """Enqueue each job whose current slot nobody has claimed yet; returns the rq job ids enqueued."""
    enqueued = []
    for job in jobs:
        slot = int(now // job.every_s)
        if not connection.set(slot_key(job, slot), "1", nx=True, ex=job.every_s * 3):
            continue  # another process (or an earlier tick of this one) has this slot
        job_id = f"{job.name}-{slot}"
        # Without a worker the queue must not fill with stale sweeps: a run waits at most a few periods.
        Queue(job.queue, connection=connection).enqueue(
            run_periodic,
            job.name,
            job.target,
            slot,
            scheduled_by,
            job_id=job_id,
            ttl=job.every_s * 5,
            retry=Retry(max=2, interval=[5, 20]),
            job_timeout=job.every_s,
        )
        enqueued.append(job_id)
        logger.debug("periodic job %s enqueued", job_id)
    return enqueued


def run_periodic(
    name: str, target: str, slot: int, scheduled_by: str, context: Context | None = None
) -> dict[str, Any] | None:
    """The rq job of one run: claim (name, slot) in the database, then run `target`. A run already
    claimed (by another worker, or an earlier attempt) is skipped and returns None."""
    from hotline.jobs import worker

    context = context or worker.worker_context()
    try:
        with context.sessions.begin() as session:
            session.add(PeriodicRun(job=name, slot=slot, scheduled_by=scheduled_by[:128]))
    except IntegrityError:
        logger.info("periodic run %s-%d already claimed; skipped", name, slot)
        return None
    module, _, function = target.rpartition(".")
    job: Callable[..., Any] = getattr(importlib.import_module(module), function)
    try:
        value = job(context=context)
        result = "ok"
    except Exception as exc:
        result = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        raise
    finally:
        with context.sessions.begin() as session:
            session.execute(
                update(PeriodicRun)
                .where(PeriodicRun.job == name, PeriodicRun.slot == slot)
                .values(finished_at=datetime.now(UTC), result=result)
            )
    return {"job": name, "slot": slot, "value": value}


def last_runs(context: Context) -> dict[str, dict[str, Any]]:
    """Each periodic job's newest run (for /metrics and operators)."""
    with context.sessions() as session:
        out: dict[str, dict[str, Any]] = {}
        for job in PERIODIC_JOBS:
            run = session.scalars(
                select(PeriodicRun).where(PeriodicRun.job == job.name).order_by(PeriodicRun.slot.desc()).limit(1)
            ).first()
            if run is not None:
                out[job.name] = {"slot": run.slot, "started_at": run.started_at, "finished_at": run.finished_at,
                                 "result": run.result, "scheduled_by": run.scheduled_by}  # fmt: skip
        return out


def tick(lease: RedisLease, jobs: tuple[PeriodicJob, ...], now: float) -> list[str]:
    """One pass: keep (or take) the lease; the holder enqueues what is due."""
    was_held = lease.held
    if not lease.acquire_or_renew():
        if was_held:
            logger.warning("scheduler lease lost to %s", lease.current_holder())
        return []
    if not was_held:
        logger.info("scheduler lease taken by %s: this process enqueues the periodic jobs", lease.holder)
    return enqueue_due(lease.client, now, jobs, lease.holder)


def scheduler_lease(context: Context) -> RedisLease:
    return RedisLease(context.redis.client, LEASE_NAME, context.settings.scheduler_lease_seconds)


async def schedule_forever(
    lease: RedisLease, tick_s: float = TICK_S, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS
) -> None:
    """Run until cancelled; the lease is given up on the way out so another instance takes over at once."""
    tick_s = min(tick_s, lease.ttl_ms / 3000)  # renew at least three times per lease period
    try:
        while True:
            try:
                await asyncio.to_thread(tick, lease, jobs, time.time())
            except Exception:
                lease.held = False  # unknown after an error: take it again (or not) next time
                logger.exception("periodic job scheduling failed; retrying in %.0f s", tick_s)
            await asyncio.sleep(tick_s)
    finally:
        try:
            await asyncio.to_thread(lease.release)
        except Exception:
            logger.warning("scheduler lease not released; it lapses by itself")
