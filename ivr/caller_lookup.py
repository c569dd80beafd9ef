"""Caller lookups batched: sessions that start within a few milliseconds of each other share one
database query (a burst of calls costs a handful of queries, not one per call)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from ivr.session import CallerProfile

logger = logging.getLogger(__name__)

Query = Callable[[Collection[str]], Awaitable[dict[str, CallerProfile]]]


class CallerLookup:
    def __init__(self, query: Query, *, max_delay_s: float = 0.005, max_batch: int = 500) -> None:
        self._query = query
        self.max_delay_s = max_delay_s
        self.max_batch = max_batch
        self._waiting: dict[str, list[asyncio.Future[CallerProfile]]] = {}
        self._flushing: asyncio.Task[None] | None = None
        self.queries = 0

    async def profile(self, number: str) -> CallerProfile:
        future: asyncio.Future[CallerProfile] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(number, []).append(future)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(self.max_delay_s)
        while self._waiting:
            numbers = list(self._waiting)[: self.max_batch]
            batch = {number: self._waiting.pop(number) for number in numbers}
            self.queries += 1
            try:
                found = await self._query(numbers)
            except Exception as exc:  # each waiting session decides what a failed lookup means
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for number, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(number, CallerProfile()))
