"""Job workers with rq's own means: a WorkerPool of non-forking workers whose process has built the
settings, database engine and router once, before the pool forked them.

rq's default worker forks a child per job, and each child would build settings and the jieba router
again (0.6–2 s a job). Here the pool's parent builds them (`hotline.jobs.worker.worker_context`), forks N
workers that inherit them, and each worker runs jobs in its own process (`SimpleWorker`): a routing
job costs its own work and nothing more. The pool restarts a worker that dies within a second, and
`hotline serve` restarts the pool itself with backoff.

Queues: `sweeps` (督办 and retention sweeps) comes first in every worker's list, so a sweep is the
next job any worker takes whatever the routing backlog; `default` (routing, feed announcements);
`asr` (long transcriptions) is served by its own pool so it never holds up routing.

Each worker refreshes `hotline:worker:<name>:alive` (a few seconds' lifetime): the outbox relay
re-sends the job of a worker whose key expired, and /api/health counts the live ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

import redis
from rq import SimpleWorker, Worker
from rq.worker import BaseWorker
from rq.worker_pool import WorkerPool

from hotline.jobs.outbox import WORKER_ALIVE_KEY
from hotline.redis_conn import redis_client
from hotline.supervise import die_with_parent

logger = logging.getLogger(__name__)

SWEEPS_QUEUE = "sweeps"
DEFAULT_QUEUES = [SWEEPS_QUEUE, "default"]
ALIVE_EVERY_S = 1.0
MAINTENANCE_S = 15
ALIVE_TTL_S = 5
#: How long a worker waits between attempts to reach Redis at start-up.
REDIS_WAIT_S = (0.5, 5.0)
#: How often a worker's command-listening thread wakes (rq's own: 60 s).
PUBSUB_WAKE_S = 1.0


class PromptStopMixin:
    """A worker that stops within a second. rq listens for commands (stop a job, shut down) in a
    thread that wakes once a minute, and on stopping unsubscribes before it joins that thread; since
    redis-py 8.2 the join has no time limit, and the unsubscribed thread waits out its minute, so a
    worker told to stop took up to 60 s to do so."""

    connection: redis.Redis
    name: str
    pubsub_channel_name: str
    log: logging.Logger

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_WAKE_S,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,  # type: ignore[attr-defined]
        )


class InProcessWorker(PromptStopMixin, SimpleWorker):
    """rq's SimpleWorker that stops promptly: one-off runs in the calling process (tests, burst runs)."""


class AliveMixin:
    """Says the worker is alive every second while it runs. Its maintenance (rq's clean-up of
    abandoned jobs, taking over the scheduler of a dead worker) runs every 15 s, not rq's 10 minutes."""

    connection: redis.Redis
    name: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_S)
        super().__init__(*args, **kwargs)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        # A killed pool leaves no orphan workers (an idle rq worker would wait out its blocking read
        # on SIGTERM); a job cut short is re-sent by the outbox relay.
        die_with_parent(signal.SIGKILL)
        _wait_for_redis(self.connection)
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop,), name="worker-alive", daemon=True)
        beat.start()
        try:
            return bool(super().work(*args, **kwargs))  # type: ignore[misc]
        finally:
            stop.set()
            beat.join(2)
            with contextlib.suppress(redis.RedisError):
                self.connection.delete(WORKER_ALIVE_KEY.format(name=self.name))

    def _beat(self, stop: threading.Event) -> None:
        key = WORKER_ALIVE_KEY.format(name=self.name)
        value = json.dumps({"pid": os.getpid(), "queues": self.queue_names()})  # type: ignore[attr-defined]
        while not stop.is_set():
            # Redis away: the key lapses, as it should; the worker's own loop reports the outage.
            with contextlib.suppress(redis.RedisError):
                self.connection.set(key, value, ex=ALIVE_TTL_S)
            stop.wait(ALIVE_EVERY_S)


class HotlineWorker(AliveMixin, PromptStopMixin, SimpleWorker):
    """Routing, announcements, sweeps: short jobs run in the worker's own process, no fork per job."""


class ForkingHotlineWorker(AliveMixin, PromptStopMixin, Worker):
    """Transcription: hour-long jobs in a forked child (rq's horse), so rq's own monitoring sees a
    killed one within a minute and retries it; the fork costs nothing beside the job."""


def _wait_for_redis(connection: redis.Redis) -> None:
    """A worker started while Redis is down waits for it (with backoff) instead of dying at once."""
    delay, cap = REDIS_WAIT_S
    while True:
        try:
            connection.ping()
            return
        except redis.RedisError as exc:
            logger.warning("worker waiting for Redis (%s); next try in %.1f s", exc, delay)
            time.sleep(delay)
            delay = min(cap, delay * 2)


def alive_workers(connection: redis.Redis) -> list[dict[str, Any]]:
    """The workers whose liveness key is current, with their queues."""
    keys = list(connection.scan_iter(match=WORKER_ALIVE_KEY.format(name="*"), count=500))
    if not keys:
        return []
    values = connection.mget(keys)
    return [json.loads(v) for v in values if v is not None]


def run_pool(url: str, queues: list[str], processes: int, preload: bool) -> None:
    """Build what jobs need once, then run `processes` workers on `queues` until SIGTERM/SIGINT."""
    from hotline.jobs import worker

    if preload:
        started = time.perf_counter()
        context = worker.worker_context()  # settings, config, engine (not yet connected), Redis client
        _ = context.router  # jieba's dictionary: loaded here once, shared by every forked worker
        # Loading the router reads its learned model from the database: close that connection, or
        # every forked worker would inherit the same socket and their queries would interleave on it
        # ("server closed the connection unexpectedly", seen with 4 workers under load).
        context.engine.dispose()
        logger.info("worker context and router preloaded in %.1f s", time.perf_counter() - started)
    worker_class = HotlineWorker if preload else ForkingHotlineWorker
    pool = UrlWorkerPool(url, queues, num_workers=processes, worker_class=worker_class)
    pool.start(logging_level=logging.getLevelName(logging.getLogger().level))


class UrlWorkerPool(WorkerPool):
    """rq's pool gives each forked worker a plain ConnectionPool copied from the parent's client, which
    cannot follow a Sentinel-managed master (`redis+sentinel://`); here each worker builds its own
    client from the URL, so it asks the Sentinels where the master is, now and after a failover."""

    def __init__(self, url: str, queues: list[str], **kwargs: Any) -> None:
        self.url = url
        super().__init__(queues, connection=redis_client(url), **kwargs)

    def get_worker_process(self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO") -> BaseProcess:
        return multiprocessing.get_context("fork").Process(
            target=run_worker,
            args=(self.url, name, self._queue_names),
            kwargs={"burst": burst, "logging_level": logging_level, "worker_class": self.worker_class},
            name=f"Worker {name} (WorkerPool {self.name})",
        )


def run_worker(
    url: str,
    name: str,
    queue_names: list[str],
    *,
    worker_class: type[BaseWorker] = InProcessWorker,
    burst: bool = False,
    logging_level: str = "INFO",
) -> None:
    """One pool worker: its own Redis client for `url`, then rq's work loop (with its scheduler)."""
    connection = redis_client(url)
    worker = worker_class(queue_names, name=name, connection=connection)
    worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
