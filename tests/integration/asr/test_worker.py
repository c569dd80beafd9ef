"""The job as the service runs it: outbox → rq with bounded retries, and a worker killed mid-job."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import redis
import soundfile
from rq import Queue
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from hotline.bootstrap import Context
from hotline.jobs import transcription as jobs
from hotline.jobs import worker as job_worker
from hotline.jobs.outbox import relay_pending
from hotline.jobs.pool import InProcessWorker
from storage.tables import Transcript
from tests.asr_support import HELLO
from tests.conftest import REPO
from ticketing.domain.events import RecordingFinished
from ticketing.events import emit


def _processes_with(marker: bytes) -> list[int]:
    """Every process whose environment holds `marker`: a started program and everything it forked,
    wherever they were re-parented and whatever process group they moved to."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
    return found


def _kill_all(marker: bytes) -> None:
    """Kill every process carrying `marker`, as a machine or the OOM killer takes them all at once.
    They are stopped first, until no new one appears (a pool replaces a worker that died, rq runs each
    job in a child of its own process group), then killed together."""
    stopped: set[int] = set()
    while found := set(_processes_with(marker)) - stopped - {os.getpid()}:
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= found
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while left := _processes_with(marker):
        assert time.monotonic() < deadline, f"processes survived SIGKILL: {left}"
        time.sleep(0.05)


def _wait_for_redis_to_drop_blocked_clients(connection: redis.Redis) -> None:
    """Until Redis has seen the killed workers' connections close: a job pushed before that would be
    handed to a dead worker's pending BLMOVE and lost with it."""
    deadline = time.monotonic() + 10
    while blocked := [c for c in connection.client_list() if "b" in c["flags"]]:
        assert time.monotonic() < deadline, f"clients still blocked after their workers were killed: {blocked}"
        time.sleep(0.05)


def _status(context: Context, path: Path) -> tuple[str | None, int]:
    with context.sessions() as session:
        row = session.scalar(select(Transcript).where(Transcript.path == str(path)))
        return (row.status, row.attempts) if row else (None, 0)


def test_outbox_hands_the_job_to_rq_with_a_timeout_and_bounded_retries(
    asr_context: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "voicemail.wav"
    shutil.copy(HELLO["ulaw"], path)
    with asr_context.sessions.begin() as session:
        emit(session, RecordingFinished(str(path), None, "12348-20261124-000001"))
    assert relay_pending(asr_context.sessions, asr_context.redis.client) == 1
    queue = Queue(jobs.ASR_QUEUE, connection=asr_context.redis.client)
    [job] = queue.jobs
    assert (
        job.func_name == "hotline.jobs.transcription.transcribe_recording"
        and job.timeout == 3 * 3600
        and job.retries_left == 3
    )
    monkeypatch.setattr(job_worker, "worker_context", lambda: asr_context)
    InProcessWorker([queue], connection=asr_context.redis.client).work(burst=True)
    assert _status(asr_context, path) == ("done", 1)
    assert job.get_status(refresh=True) == JobStatus.FINISHED


def test_a_job_whose_worker_was_killed_is_retried_to_the_end(
    asr_context: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long enough (mostly silence, which is cheap to recognise) to be killed while it runs.
    path = tmp_path / "long-call.wav"
    hello, rate = soundfile.read(HELLO["pcm16"], dtype="int16")
    soundfile.write(path, np.concatenate([hello, np.zeros(rate * 6, dtype=np.int16)]), rate, subtype="PCM_16")
    with asr_context.sessions.begin() as session:
        emit(session, RecordingFinished(str(path), "1795449034.93"))
    relay_pending(asr_context.sessions, asr_context.redis.client)

    settings = asr_context.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_REDIS_URL=asr_context.redis.url,
        HOTLINE_DATABASE_URL=settings.effective_database_url,
        HOTLINE_CONFIG_DIR=str(settings.config_dir),
        HOTLINE_DATA_DIR=str(tmp_path / "var"),
        HOTLINE_ASR_MODEL=str(settings.asr_model),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "worker", jobs.ASR_QUEUE],
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(asr_context, path)[0] != "running":
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.05)
    finally:
        # The pool, its workers, their schedulers and the job's own process, at once: as a machine
        # or the OOM killer takes them all. Each carries the data folder in its environment.
        _kill_all(f"HOTLINE_DATA_DIR={env['HOTLINE_DATA_DIR']}".encode())
        worker.wait(timeout=10)
        if worker.stderr:
            worker.stderr.close()
    connection = asr_context.redis.client
    _wait_for_redis_to_drop_blocked_clients(connection)
    assert _status(asr_context, path) == ("running", 1)

    queue = Queue(jobs.ASR_QUEUE, connection=connection)
    registry = StartedJobRegistry(queue=queue)
    [job_id] = registry.get_job_ids(cleanup=False)
    # What any live worker's maintenance does once the dead worker's heartbeat has expired:
    registry.cleanup(timestamp=time.time() + 3600)
    job = queue.fetch_job(job_id)
    assert job is not None and job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2

    # The retry delay passes; rq's scheduler moves the job back to its queue, and a worker runs it.
    queue.scheduled_job_registry.remove(job)
    queue.enqueue_job(job)
    monkeypatch.setattr(job_worker, "worker_context", lambda: asr_context)
    ran = InProcessWorker([queue], connection=connection).work(burst=True)
    assert _status(asr_context, path) == ("done", 2), (
        f"worker ran a job: {ran}; job {job.get_status(refresh=True)}, queue {queue.job_ids}, "
        f"result {job.latest_result()}"
    )
