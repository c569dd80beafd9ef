"""Supervision: a stopped component is started again with a growing backoff, and says why it stopped."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator

import pytest

from hotline.supervise import STATUS, Backoff, describe_exit, supervise_process, supervise_task


@pytest.fixture(autouse=True)
def _forget_components() -> Iterator[None]:
    yield
    for name in ("flaky", "bridge-test"):
        STATUS.pop(name, None)  # health would report them


def test_backoff_doubles_to_its_cap_and_resets_after_a_healthy_run() -> None:
    backoff = Backoff(first_s=0.5, cap_s=4, healthy_after_s=60)
    assert [backoff.after(1) for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert backoff.after(61) == 0.5


def test_exits_are_described() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "killed by SIGKILL"


def test_a_process_that_stops_is_started_again_and_the_log_says_why(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "hotline.supervise")

    async def scenario() -> None:
        task = asyncio.create_task(
            supervise_process("flaky", [sys.executable, "-c", "raise SystemExit(3)"], backoff=Backoff(0.01, 0.05))
        )
        while "flaky" not in STATUS or STATUS["flaky"].restarts < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert STATUS["flaky"].last_exit == "exited with code 3"
    assert "flaky exited with code 3; starting it again" in caplog.text


def test_a_task_that_fails_is_started_again() -> None:
    runs = []

    async def bridge() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ConnectionError("AMI refused")
        await asyncio.sleep(3600)

    async def scenario() -> None:
        task = asyncio.create_task(supervise_task("bridge-test", bridge, Backoff(0.01, 0.05)))
        while len(runs) < 3:
            await asyncio.sleep(0.01)
        assert STATUS["bridge-test"].running and STATUS["bridge-test"].restarts == 2
        assert STATUS["bridge-test"].last_exit == "ConnectionError: AMI refused"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
