"""The call writer stops when it is cancelled, even when it is woken in the same moment.

On Python 3.11, asyncio.wait_for returns the inner result and drops the cancellation when both
arrive together; the writer's loop then went on forever, and a bridge being stopped or restarted
never finished (seen once in a real-PBX test: "the hotline bridge did not stop within 30 s")."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.bridge.call_writer import CallWriter


def test_a_wake_up_and_a_cancel_together_still_stop_the_writer() -> None:
    async def scenario() -> bool:
        writer = CallWriter(None, flush_interval_s=60)  # type: ignore[arg-type]  # nothing to write: no database
        task = asyncio.create_task(writer.run())
        for _ in range(3):
            await asyncio.sleep(0)  # the writer waits for its wake-up
        writer._wake.set()  # a full batch arrives
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return bool(done) and task.cancelled()

    assert asyncio.run(scenario())


def test_the_writer_still_flushes_on_its_interval() -> None:
    written: list[Any] = []

    async def scenario() -> None:
        writer = CallWriter(None, flush_interval_s=0.01)  # type: ignore[arg-type]
        writer._write = written.extend  # type: ignore[method-assign]
        writer.pending["x"] = {"linkedid": "x"}
        task = asyncio.create_task(writer.run())
        for _ in range(500):
            await asyncio.sleep(0.01)
            if not writer.pending:
                break
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert written == [{"linkedid": "x"}]
