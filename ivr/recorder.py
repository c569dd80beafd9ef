"""Writes finished IVR sessions to the database in batches, off the callers' path.

A session's row is written within `max_delay_s` of its end, together with every other session that
ended meanwhile: a few statements per batch instead of a transaction per call, so a burst of calls
costs the database (and the event loop) little. The bridge reads the rows when it writes the Call
row at the end of the call, long after. Shutting down writes what is pending first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from ivr.session import IvrSessionState

logger = logging.getLogger(__name__)

Writer = Callable[[Sequence[IvrSessionState]], Awaitable[None]]


class SessionRecorder:
    def __init__(
        self, write: Writer, *, max_delay_s: float = 0.05, max_batch: int = 500, retry_delay_s: float = 0.5
    ) -> None:
        self._write = write
        self.retry_delay_s = retry_delay_s
        self.max_delay_s = max_delay_s
        self.max_batch = max_batch
        #: Finished sessions; None asks the writer task to finish.
        self._pending: asyncio.Queue[IvrSessionState | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ivr-session-recorder")

    def add(self, state: IvrSessionState) -> None:
        self._pending.put_nowait(state)

    async def stop(self) -> None:
        """Write everything pending, then stop."""
        if self._task is not None:
            self._pending.put_nowait(None)
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            first = await self._pending.get()
            if first is None:
                return
            await asyncio.sleep(self.max_delay_s)
            batch, stopping = [first], False
            while not self._pending.empty() and len(batch) < self.max_batch:
                item = self._pending.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._flush(batch)
            if stopping:
                return

    async def _flush(self, batch: list[IvrSessionState]) -> None:
        for attempt in range(3):
            try:
                await self._write(batch)
                self.written += len(batch)
                return
            except Exception:
                logger.exception("IVR sessions not saved (attempt %d): %s", attempt + 1, _ids(batch))
                await asyncio.sleep(self.retry_delay_s * (attempt + 1))
        logger.error("IVR sessions lost after 3 attempts: %s", _ids(batch))


def _ids(batch: Sequence[IvrSessionState]) -> str:
    shown = ", ".join(state.uniqueid for state in batch[:10])
    return shown + (f" and {len(batch) - 10} more" if len(batch) > 10 else "")
