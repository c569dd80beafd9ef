"""Periodic jobs run once across the cluster: two scheduler processes share a Redis lease, the holder
is killed (SIGKILL, no clean-up), the other takes over, and every run happens exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rq import Queue, get_current_job
from sqlalchemy import select

from hotline.bootstrap import Context
from hotline.jobs import worker
from hotline.jobs.scheduler import PeriodicJob, enqueue_due, run_periodic
from hotline.lease import RedisLease
from storage.tables import PeriodicRun

REPO = Path(__file__).resolve().parents[3]
QUEUE = "lease-test"
LEASE = "scheduler-test"
PROBE_RUNS = "hotline:test:probe-runs"
JOB = PeriodicJob("probe", "tests.integration.deploy.test_scheduler_lease.probe", 1, queue=QUEUE)

SCHEDULER = f"""
import asyncio, os, signal
from hotline.lease import RedisLease
from hotline.redis_conn import redis_client
from hotline.jobs.scheduler import PeriodicJob, schedule_forever
job = PeriodicJob({JOB.name!r}, {JOB.job!r}, {JOB.every_s}, queue={QUEUE!r})
lease = RedisLease(redis_client(os.environ["HOTLINE_REDIS_URL"]), {LEASE!r}, ttl_s=2.0)
print(lease.holder, flush=True)
async def main():
    task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # as `hotline scheduler` does
    await schedule_forever(lease, tick_s=0.2, jobs=(job,))
try:
    asyncio.run(main())
except asyncio.CancelledError:
    pass
"""


def probe(context: Context) -> int:
    """The periodic job of this test: counts its runs per slot (its rq job id is probe-SLOT)."""
    job = get_current_job()
    slot = job.id.rsplit("-", 1)[1] if job is not None else "outside-rq"
    return int(context.redis.client.hincrby(PROBE_RUNS, slot, 1))


def _env(context: Context) -> dict[str, str]:
    return {
        **os.environ,
        "HOTLINE_DATABASE_URL": context.settings.effective_database_url,
        "HOTLINE_REDIS_URL": context.redis.url,
        "HOTLINE_DATA_DIR": str(context.settings.data_dir),
        "HOTLINE_CONFIG_DIR": str(context.settings.config_dir),
    }


@pytest.fixture
def start_scheduler(context: Context) -> Iterator[Callable[[], tuple[subprocess.Popen[str], str]]]:
    """Starts scheduler processes on the test's database and Redis; kills what is left at the end."""
    started: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [sys.executable, "-c", SCHEDULER], cwd=REPO, env=_env(context), stdout=subprocess.PIPE, text=True
        )
        started.append(process)
        assert process.stdout is not None
        holder = process.stdout.readline().strip()
        assert holder, "the scheduler process did not start"
        return process, holder

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def _work(context: Context, until: float) -> None:
    """Act as the job worker until `until`: run what the schedulers enqueue, in order. (rq's burst
    worker re-registers on every pass, too slow to keep up with a job a second on a busy machine;
    the real worker path is tested in test_escalation.)"""
    queue = Queue(QUEUE, connection=context.redis.client)
    while time.monotonic() < until:
        for job_id in queue.job_ids:
            job = queue.fetch_job(job_id)
            queue.remove(job_id)
            if job is not None:
                job.perform()
        time.sleep(0.1)


def _holder(context: Context) -> str | None:
    return RedisLease(context.redis.client, LEASE, 2.0).current_holder()


def _wait_for_holder(context: Context, holder: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _holder(context) != holder:
        assert time.monotonic() < deadline, f"{holder} never took the lease (holder: {_holder(context)})"
        time.sleep(0.05)


def _runs(context: Context) -> list[PeriodicRun]:
    with context.sessions() as session:
        return list(session.scalars(select(PeriodicRun).where(PeriodicRun.job == JOB.name).order_by(PeriodicRun.slot)))


def test_killing_the_lease_holder_moves_the_periodic_job_and_each_run_happens_once(
    context: Context, start_scheduler: Callable[[], tuple[subprocess.Popen[str], str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    first, first_holder = start_scheduler()
    _wait_for_holder(context, first_holder, timeout=30)
    second, second_holder = start_scheduler()
    _work(context, time.monotonic() + 3)  # both running: only the holder enqueues
    assert _holder(context) == first_holder
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.time()
    _wait_for_holder(context, second_holder, timeout=10)  # the lease lapses (2 s) and moves
    _work(context, time.monotonic() + 3)
    second.send_signal(signal.SIGTERM)  # a clean stop gives the lease up at once
    second.wait(timeout=10)
    _work(context, time.monotonic() + 0.5)
    assert _holder(context) is None

    runs = _runs(context)
    by = {run.scheduled_by for run in runs}
    assert by == {first_holder, second_holder}
    before = [r for r in runs if r.scheduled_by == first_holder]
    after = [r for r in runs if r.scheduled_by == second_holder]
    assert len(before) >= 2 and len(after) >= 2
    assert max(r.slot for r in before) <= killed_at < min(r.slot for r in after) + 1
    assert all(r.finished_at is not None and r.result == "ok" for r in runs)
    # Exactly once: every claimed slot ran the job one time, and nothing ran without a claim.
    counts = {int(k): int(v) for k, v in context.redis.client.hgetall(PROBE_RUNS).items()}
    assert sorted(counts) == [r.slot for r in runs] and set(counts.values()) == {1}


def test_a_second_copy_of_a_run_is_skipped(context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two schedulers that both think they hold the lease (a Redis failover lost the lease and the
    slot keys) enqueue the same slot twice: the database claim lets it run once."""
    monkeypatch.setattr(worker, "worker_context", lambda: context)
    slot = int(time.time())
    assert enqueue_due(context.redis.client, float(slot), (JOB,), "scheduler-a") == [f"probe-{slot}"]
    context.redis.client.delete(f"hotline:schedule:probe:{slot}")  # as if Redis had failed over
    _work(context, time.monotonic() + 0.3)
    assert enqueue_due(context.redis.client, float(slot), (JOB,), "scheduler-b") == [f"probe-{slot}"]
    _work(context, time.monotonic() + 0.3)
    assert run_periodic(JOB.name, JOB.job, slot, "scheduler-c", context) is None
    [run] = _runs(context)
    assert (run.slot, run.scheduled_by, run.result) == (slot, "scheduler-a", "ok")
    assert sum(int(v) for v in context.redis.client.hgetall(PROBE_RUNS).values()) == 1
