"""Prometheus metrics (`GET /metrics`, text exposition format, prometheus_client).

Most figures are read from the shared state at scrape time, so any API process gives the cluster's
view: calls today per node and outcome (PostgreSQL), callers waiting and lawyers per queue across
nodes (Redis live state), job queue lengths and the age of their oldest job (rq), each bridge's
heartbeat and connection, the outbox backlog and each periodic job's last run. Per process: HTTP
requests by route and status with their durations, and error log lines by logger. deploy/prometheus/
has alert rules built on them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from hotline.bootstrap import Context
from hotline.bridge_client import BridgeClient
from hotline.jobs.scheduler import last_runs
from hotline.jobs.transcription import ASR_QUEUE
from hotline.live.nodes import known_nodes, merged_state
from storage.tables import Call, OutboxMessage

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
JOB_QUEUES = ("default", ASR_QUEUE)


class ClusterCollector(Collector):
    def __init__(self, context: Context) -> None:
        self.context = context

    def collect(self) -> Iterable[Metric]:
        yield from self._calls()
        yield from self._live()
        yield from self._jobs()
        yield from self._bridges()

    def _calls(self) -> Iterable[Metric]:
        tz = ZoneInfo(self.context.settings.timezone)
        midnight = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        calls = GaugeMetricFamily(
            "hotline_calls_today", "Calls offered since local midnight", labels=["node", "outcome"]
        )
        outbox = GaugeMetricFamily("hotline_outbox_pending", "Outbox messages not yet handed to the job queue")
        up = GaugeMetricFamily("hotline_database_up", "1 when the database answered this scrape")
        try:
            with self.context.sessions() as session:
                rows = session.execute(
                    select(Call.node, Call.outcome, func.count())
                    .where(Call.offered_at >= midnight.astimezone(UTC))
                    .group_by(Call.node, Call.outcome)
                ).all()
                pending = session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None))
                )
            for node, outcome, count in rows:
                calls.add_metric([node, outcome], count)
            outbox.add_metric([], pending or 0)
            up.add_metric([], 1)
            yield from (calls, outbox)
            yield from self._periodic()
        except SQLAlchemyError as exc:
            logger.warning("metrics: database unavailable: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
        yield up

    def _periodic(self) -> Iterable[Metric]:
        last = GaugeMetricFamily(
            "hotline_periodic_job_last_run_timestamp_seconds", "When each periodic job last started", labels=["job"]
        )
        for name, run in last_runs(self.context).items():
            last.add_metric([name], run["started_at"].timestamp())
        yield last

    def _live(self) -> Iterable[Metric]:
        waiting = GaugeMetricFamily("hotline_queue_waiting", "Callers waiting per queue (all nodes)", labels=["queue"])
        longest = GaugeMetricFamily(
            "hotline_queue_longest_wait_seconds", "Wait of the longest-waiting caller per queue", labels=["queue"]
        )
        members = GaugeMetricFamily("hotline_queue_lawyers", "Lawyers per queue by state", labels=["queue", "state"])
        up = GaugeMetricFamily("hotline_redis_up", "1 when Redis answered this scrape")
        try:
            state = merged_state(self.context.redis.client)
            now = time.time()
            for queue in state["queues"]:
                name = queue["queue"]
                waiting.add_metric([name], queue.get("waiting") or 0)
                oldest = queue.get("oldest_joined_at")
                longest.add_metric([name], max(0.0, now - oldest) if oldest is not None else 0.0)
                for field, label in (("members_available", "available"), ("members_paused", "paused"),
                                     ("talking", "talking"), ("members_on_duty", "on_duty")):  # fmt: skip
                    members.add_metric([name, label], queue.get(field) or 0)
            up.add_metric([], 1)
            yield from (waiting, longest, members)
        except (redis.RedisError, OSError) as exc:
            logger.warning("metrics: Redis unavailable: %s", exc)
            up.add_metric([], 0)
        yield up

    def _jobs(self) -> Iterable[Metric]:
        length = GaugeMetricFamily("hotline_job_queue_length", "Jobs waiting per rq queue", labels=["queue"])
        age = GaugeMetricFamily(
            "hotline_job_queue_oldest_age_seconds", "Age of the oldest job waiting per rq queue", labels=["queue"]
        )
        failed = GaugeMetricFamily("hotline_job_queue_failed", "Failed jobs kept per rq queue", labels=["queue"])
        try:
            now = datetime.now(UTC)
            for name in JOB_QUEUES:
                queue = Queue(name, connection=self.context.redis.client)
                length.add_metric([name], queue.count)
                first = queue.get_job_ids(0, 0)
                job = queue.fetch_job(first[0]) if first else None
                enqueued = job.enqueued_at if job is not None else None
                if enqueued is not None and enqueued.tzinfo is None:
                    enqueued = enqueued.replace(tzinfo=UTC)
                age.add_metric([name], max(0.0, (now - enqueued).total_seconds()) if enqueued else 0.0)
                failed.add_metric([name], queue.failed_job_registry.count)
            yield from (length, age, failed)
        except (redis.RedisError, OSError) as exc:
            logger.warning("metrics: job queues unavailable: %s", exc)

    def _bridges(self) -> Iterable[Metric]:
        running = GaugeMetricFamily("hotline_bridge_up", "1 while the bridge heartbeat is live", labels=["node"])
        connected = GaugeMetricFamily("hotline_bridge_connected", "1 while the bridge is logged in to Asterisk",
                                      labels=["node"])  # fmt: skip
        pending = GaugeMetricFamily("hotline_bridge_rows_pending", "Call rows the bridge has not written yet",
                                    labels=["node"])  # fmt: skip
        try:
            # Every configured node (HOTLINE_NODES), up or not, and any other node heard from.
            for node in sorted({*known_nodes(self.context.redis.client), *self.context.settings.node_list}):
                status: dict[str, Any] | None = BridgeClient(self.context.redis.client, node).status()
                running.add_metric([node], 0 if status is None else 1)
                connected.add_metric([node], 1 if status and status.get("connected") else 0)
                pending.add_metric([node], (status or {}).get("rows_pending") or 0)
            yield from (running, connected, pending)
        except (redis.RedisError, OSError) as exc:
            logger.warning("metrics: bridge heartbeats unavailable: %s", exc)


#: Per process, whatever the number of applications: error log lines by logger.
PROCESS_REGISTRY = CollectorRegistry()
_ERRORS = Counter("hotline_log_errors_total", "Log lines at ERROR or above", ["logger"], registry=PROCESS_REGISTRY)


class _CountErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        _ERRORS.labels(record.name).inc()


def _count_errors() -> None:
    root = logging.getLogger()
    if not any(isinstance(handler, _CountErrors) for handler in root.handlers):
        root.addHandler(_CountErrors())


def install_metrics(app: FastAPI, context: Context) -> None:
    """`GET /metrics` and the per-process HTTP and error counters (one registry per application)."""
    registry = CollectorRegistry()
    registry.register(ClusterCollector(context))
    requests = Counter("hotline_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
    duration = Histogram(
        "hotline_http_request_duration_seconds", "HTTP request durations", ["route"], registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )  # fmt: skip
    _count_errors()

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response: Response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            if path != "/api/feed":  # a stream lasts as long as the browser stays
                duration.labels(path).observe(time.perf_counter() - started)
            requests.labels(request.method, path, str(status)).inc()

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(registry) + generate_latest(PROCESS_REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
