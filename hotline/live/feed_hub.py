"""One reader of the feed stream per API process, shared by every console open on it.

With a blocking XREAD per console, every entry the bridges write wakes all of them: 200 consoles on
four API processes cost 200 Redis round trips and JSON parses per entry. The hub reads once per
process and hands each batch to the consoles' subscriptions; a console whose position is behind
the hub's (it resumed from Last-Event-ID, or took its snapshot earlier) fills the gap from the
stream itself (XRANGE), so nothing is skipped and nothing repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import redis

from hotline.live.feed import FEED_STREAM
from hotline.redis_conn import aclose_client, async_redis_client

logger = logging.getLogger(__name__)

BLOCK_MS = 10_000
BATCH = 500
#: Batches a console may fall behind before it is dropped (its browser reconnects and resumes).
BACKLOG = 2_000


def stream_entries(found: Any) -> list[tuple[str, bytes]]:
    """XREAD's answer as (entry id, stored JSON) pairs."""
    return [(raw_id.decode(), fields.get(b"data", b"{}")) for _stream, items in found for raw_id, fields in items]


@dataclass(frozen=True)
class Batch:
    #: The hub read the entries after this id: a console at an older id has a gap to fill first.
    after: str
    #: (entry id, stored JSON); empty after a quiet wait.
    entries: list[tuple[str, bytes]]
    #: Redis failed: the consoles say so and their browsers reconnect.
    error: str | None = None


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Batch] = field(default_factory=lambda: asyncio.Queue(BACKLOG))
    #: It fell BACKLOG batches behind and gets no more.
    dropped: bool = False


class FeedHub:
    def __init__(self, url: str, block_ms: int = BLOCK_MS) -> None:
        self.url = url
        self.block_ms = block_ms
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def subscribe(self) -> Subscription:
        """Batches from now on (the reader starts with the first console and stops after the last)."""
        subscription = Subscription()
        self._subscriptions.add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read(), name="feed-hub")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @contextlib.contextmanager
    def subscription(self) -> Iterator[Subscription]:
        subscription = self.subscribe()
        try:
            yield subscription
        finally:
            self.unsubscribe(subscription)

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _publish(self, batch: Batch) -> None:
        for subscription in list(self._subscriptions):
            try:
                subscription.queue.put_nowait(batch)
            except asyncio.QueueFull:
                logger.warning("a console fell %d feed batches behind; dropped (its browser resumes)", BACKLOG)
                subscription.dropped = True
                self._subscriptions.discard(subscription)

    async def _read(self) -> None:
        client = async_redis_client(self.url, socket_timeout=self.block_ms / 1000 + 5)
        last = "0-0"
        try:
            newest = await client.xrevrange(FEED_STREAM, count=1)
            last = newest[0][0].decode() if newest else "0-0"
            while self._subscriptions:
                found = await client.xread({FEED_STREAM: last}, block=self.block_ms, count=BATCH)
                entries = stream_entries(found or [])
                self._publish(Batch(last, entries))
                if entries:
                    last = entries[-1][0]
        except (redis.RedisError, OSError) as exc:
            logger.warning("feed reader stopped: Redis unavailable (%s)", exc)
            self._publish(Batch(last, [], error=str(exc)))
            self._subscriptions.clear()
        except asyncio.CancelledError:
            self._closing = True  # the server is stopping: no new reader
            raise
        finally:
            await aclose_client(client)
            if self._subscriptions and not self._closing:
                # A console subscribed while this reader was deciding to stop: read on for it.
                self._task = asyncio.create_task(self._read(), name="feed-hub")
