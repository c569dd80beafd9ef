"""The bridge process: one AMI connection kept up, events consumed in order, state published.

Connect and log in; after every (re)connect resynchronise (Ping for Asterisk's clock, then
CoreShowChannels and QueueStatus, applied at their place in the event stream); ping to notice a dead
link; when the link drops, try again on the schedule of hotline.bridge.retry (about once a second
while nobody answers, backing off to 30 s when Asterisk refuses the login). Exactly one AMI session
exists at any time: a failed attempt leaves nothing behind. Events are queued per TCP read
by the adapter and consumed by one task: tracker → live model → call writer (batched, retried) and
Redis (one pipeline per pass). When the queue or the writer's backlog is too long, reading from
Asterisk pauses until they drain, so memory stays bounded and no event is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from hotline.ami.panoramisk_adapter import AmiActionError, AmiClient, AmiConnectionLost, AmiTimeout, Item
from hotline.bridge.actions import ActionServer
from hotline.bridge.call_writer import CallWriter, load_in_progress
from hotline.bridge.core import BridgeCore, wants
from hotline.bridge.retry import RetrySchedule
from hotline.bridge.stats import LatencyStats
from hotline.domain.call_tracker import CallTracker
from hotline.live.model import Changes, LiveModel
from hotline.live.publisher import LivePublisher

logger = logging.getLogger(__name__)


@dataclass
class BridgeOptions:
    host: str
    port: int
    username: str
    secret: str
    #: "asterisk", or "simulator" in demo mode (shown on every console).
    source: str = "asterisk"
    ping_interval_s: float = 10.0
    #: A resync while connected too: a missed Hangup cannot leave a call open longer than this.
    resync_interval_s: float = 300.0
    action_timeout_s: float = 5.0
    #: How long a freshly started Asterisk may take to send FullyBooted before the resync goes ahead.
    boot_timeout_s: float = 30.0
    #: Retry schedule (hotline.bridge.retry): first delay; the most while nobody answers (a PBX
    #: that answers again is found within it); the most after Asterisk refused the login.
    backoff_initial_s: float = 0.25
    retry_probe_s: float = 1.0
    backoff_max_s: float = 30.0
    #: Events waiting to be consumed before reading from Asterisk pauses.
    max_queued_events: int = 50_000
    wrapup_s: float = 0.0
    #: SL threshold the hourly KPI rollup is kept for (settings.sl_threshold_seconds).
    sl_threshold_s: int = 20
    #: Dialplan contexts for call-backs (dials the citizen after the lawyer answers) and transfers.
    callback_context: str = "hotline-callback"
    transfer_context: str = "hotline-transfer"
    #: Name of this bridge (one per Asterisk node) for the action requests it serves.
    node: str = "default"
    #: How often wrap-ups are checked for their end (they end without an event).
    tick_s: float = 1.0
    #: How often every queue's snapshot is restated (its updated_at), so readers know it is current.
    snapshot_refresh_s: float = 15.0


#: Work that needs the live connection (the roster loop): started after each resync, cancelled when
#: the connection is lost.
WhileConnected = Callable[[AmiClient], Awaitable[None]]


class Bridge:
    def __init__(
        self,
        options: BridgeOptions,
        sessions: sessionmaker[Session],
        redis_client: aioredis.Redis,
        while_connected: list[WhileConnected] | None = None,
    ) -> None:
        self.options = options
        self.while_connected = while_connected or []
        self.sessions = sessions
        self.tracker = CallTracker()
        self.model = LiveModel(default_wrapup_s=options.wrapup_s)
        self.writer = CallWriter(
            sessions, wrapup_s=options.wrapup_s, sl_threshold_s=options.sl_threshold_s, node=options.node
        )
        self.core = BridgeCore(self.tracker, self.model, self.writer)
        self.publisher = LivePublisher(redis_client, self.model, options.source, node=options.node)
        self.actions = ActionServer(
            redis_client,
            lambda: self.client if self.ready.is_set() else None,
            self.tracker,
            node=options.node,
            callback_context=options.callback_context,
            transfer_context=options.transfer_context,
            status=self.status,
            action_timeout_s=options.action_timeout_s,
        )
        self.latency = LatencyStats()
        self.client: AmiClient | None = None
        self.ready = asyncio.Event()  # connected, logged in and resynchronised
        self.connections = 0
        self.resyncs = 0
        self.retry = RetrySchedule(options.backoff_initial_s, options.retry_probe_s, options.backoff_max_s)
        #: Connection attempts in all (each opens one TCP connection at most).
        self.attempts = 0
        #: How the bridge waits between attempts (a test records the delays it asks for).
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.last_error: str | None = None
        #: When the link to Asterisk last came up or went down (/api/health: "since").
        self.since = time.time()
        self._queue: deque[tuple[list[Item], float]] = deque()
        self._queued = 0
        self._paused = False
        self._wake = asyncio.Event()
        self._busy = False
        self._stopping = False
        self._restore_pending = True
        #: Asterisk's clock when it last answered a Ping.
        self._pong_at: float | None = None

    # -- the adapter's sink (called from data_received, must not block) -------------------------------
    def _sink(self, items: list[Item], received_at: float) -> None:
        self._queue.append((items, received_at))
        self._queued += len(items)
        self._wake.set()
        if self._queued > self.options.max_queued_events and not self._paused and self.client is not None:
            self._paused = True
            self.client.pause_reading()

    # -- tasks ----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Run until cancelled: consumer, writer, clock and the connection loop."""
        tasks = [
            asyncio.create_task(self._consume(), name="bridge-consume"),
            asyncio.create_task(self.writer.run(), name="bridge-writer"),
            asyncio.create_task(self._tick(), name="bridge-tick"),
            asyncio.create_task(self.actions.run(), name="bridge-actions"),
        ]
        try:
            await self._connect_forever()
        finally:
            self._stopping = True
            if self.client is not None:
                self.client.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await self.writer.drain(timeout=5)
            await self.publisher.set_meta(connected=0)

    async def _connect_forever(self) -> None:
        failures = 0  # in a row, for the log: one line when an outage starts, then one a minute or so
        while not self._stopping:
            _raise_if_cancelled()
            refused = False
            try:
                await self._session()
                self.retry.reset()  # it was up: start over
                failures = 0
                self.last_error = self.last_error or "the connection to Asterisk was lost"
            except (OSError, TimeoutError, AmiActionError) as exc:
                refused = isinstance(exc, AmiActionError) and not isinstance(exc, AmiConnectionLost | AmiTimeout)
                self.last_error = str(exc) or type(exc).__name__
                failures += 1
            finally:
                if self.ready.is_set():
                    self.ready.clear()
                    self.since = time.time()
                self.actions.beat()  # /api/health shows the link down, and why, at once
                if self.client is not None:
                    self.client.close()
                self._lost_sight()
                await self.publisher.set_meta(connected=0, last_error=self.last_error or "")
            delay = self.retry.failed(refused=refused)
            if failures == 1 or (failures and failures % 60 == 0):
                logger.warning(
                    "AMI %s:%d unavailable (%s); %d failed attempt(s), next in %.1f s",
                    self.options.host,
                    self.options.port,
                    self.last_error,
                    failures,
                    delay,
                )
            await self.sleep(delay)

    async def _session(self) -> None:
        options = self.options
        self.client = client = AmiClient(
            options.host, options.port, options.username, options.secret, sink=self._sink, selector=wants
        )
        self.attempts += 1
        await client.connect(timeout=options.action_timeout_s)
        self.connections += 1
        logger.info("AMI connected to %s:%d (connection %d)", options.host, options.port, self.connections)
        await self._booted(client)
        await self.resync(client)
        self.ready.set()
        self.since = time.time()
        self.last_error = None
        self.actions.beat()
        await self.publisher.set_meta(connected=1, source=options.source, connected_at=time.time(), last_error="")
        lost = asyncio.ensure_future(client.lost.wait())
        companions = [asyncio.create_task(work(client)) for work in self.while_connected]
        last_resync = time.monotonic()
        try:
            while not lost.done():
                # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
                await asyncio.wait({lost}, timeout=min(options.ping_interval_s, options.resync_interval_s))
                _raise_if_cancelled()
                if lost.done():
                    break
                try:
                    if time.monotonic() - last_resync >= options.resync_interval_s:
                        await self.resync(client)  # its Ping is the keep-alive too
                        last_resync = time.monotonic()
                    else:
                        self._heard(await client.action("Ping", timeout=options.action_timeout_s))
                except AmiActionError as exc:
                    logger.warning("AMI keep-alive failed (%s); reconnecting", exc.message)
                    self.last_error = f"keep-alive: {exc.message}"
                    return
        finally:
            lost.cancel()
            for task in companions:
                task.cancel()
            await asyncio.gather(*companions, return_exceptions=True)

    async def resync(self, client: AmiClient) -> None:
        """Asterisk's clock, then the channel and queue lists, applied in stream order."""
        pong = await client.action("Ping", timeout=self.options.action_timeout_s)
        self.core.resync_now = self._heard(pong) or self.core.resync_now or time.time()
        if self._restore_pending:
            restored = await asyncio.to_thread(load_in_progress, self.sessions, self.options.node)
            self.core.restored = {k: v for k, v in restored.items() if k not in self.tracker.calls}
            self._restore_pending = False
        await client.ordered_list("CoreShowChannels", timeout=self.options.action_timeout_s * 2)
        await client.ordered_list("QueueStatus", timeout=self.options.action_timeout_s * 2)
        await self._drained()
        self.resyncs += 1

    async def _booted(self, client: AmiClient) -> None:
        """An Asterisk still starting accepts logins before app_queue is loaded (QueueStatus would be
        refused): wait for its FullyBooted, which comes at once when it is already up."""
        booted = asyncio.ensure_future(client.booted.wait())
        lost = asyncio.ensure_future(client.lost.wait())
        try:
            await asyncio.wait({booted, lost}, timeout=self.options.boot_timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            booted.cancel()
            lost.cancel()
        if client.lost.is_set():
            raise AmiConnectionLost("FullyBooted", "the connection was lost while Asterisk was starting")
        if not client.booted.is_set():
            logger.warning(
                "no FullyBooted from Asterisk within %.0f s; resynchronising anyway", self.options.boot_timeout_s
            )

    def _heard(self, pong: Any) -> float | None:
        """Note the time (Asterisk's clock) a Ping was answered: every call still tracked was up then."""
        try:
            at = float(pong.timestamp)
        except (AttributeError, TypeError, ValueError):
            return None
        self._pong_at = max(self._pong_at or at, at)
        return at

    def _lost_sight(self) -> None:
        """The link is gone: the calls still tracked were up when Asterisk was last heard from. A call
        that turns out gone at the next resync ends at that moment, as a bound (issue 11, defect 4)."""
        heard = [t for t in (self._pong_at, self.tracker.last_time) if t is not None]
        if heard:
            self.tracker.heard(max(heard))

    async def _drained(self) -> None:
        """Wait until the consumer has applied everything received so far (the resync lists included)."""
        while self._queue or self._busy:
            await asyncio.sleep(0.005)

    async def _consume(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                self._busy = True
                batches = list(self._queue)
                self._queue.clear()
                self._queued = 0
                for items, _ in batches:
                    self.core.process(items)
                feed, self.core.feed = self.core.feed, []
                await self.publisher.publish(self.core.take_changes(), feed)
                done = time.monotonic()
                for items, received_at in batches:
                    self.latency.add(done - received_at, len(items))
                await self._maybe_resume()
                self._busy = False

    async def _maybe_resume(self) -> None:
        while self.writer.overloaded:
            if self.client is not None and not self._paused:
                self._paused = True
                self.client.pause_reading()
                logger.warning("database backlog of %d calls: reading from Asterisk paused", len(self.writer.pending))
            await asyncio.sleep(0.1)
        if self._paused and self._queued <= self.options.max_queued_events // 2 and self.writer.drained_enough:
            self._paused = False
            if self.client is not None:
                self.client.resume_reading()

    async def _tick(self) -> None:
        refreshed = 0.0
        while True:
            await asyncio.sleep(self.options.tick_s)
            changes = Changes()
            now = time.time()
            self.model.tick(now, changes)
            if now - refreshed >= self.options.snapshot_refresh_s:
                # Readers (the IVR) treat an old snapshot as unknown: a quiet queue is restated.
                changes.queues.update(self.model.queue_names)
                refreshed = now
            await self.publisher.check()
            if changes or self.publisher.needs_full:
                await self.publisher.publish(changes)

    def status(self) -> dict[str, object]:
        return {
            "node": self.options.node,
            "source": self.options.source,
            "connected": self.ready.is_set(),
            "since": datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds"),
            "connections": self.connections,
            "resyncs": self.resyncs,
            "events": self.core.events,
            "calls_in_progress": len(self.tracker.calls),
            "rows_pending": len(self.writer.pending),
            "last_error": self.last_error,
            "attempts": self.attempts,
            # From a TCP read of AMI events to its live state in Redis, over recent traffic.
            "latency_ms": {
                name: _ms(self.latency.percentile(q, last=2000)) for name, q in (("p50", 0.5), ("p99", 0.99))
            },
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _raise_if_cancelled() -> None:
    """Re-raise a cancellation that an inner wait_for swallowed (a Python 3.11 race)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
