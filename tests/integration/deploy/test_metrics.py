"""GET /metrics: the cluster's figures read at scrape time, in Prometheus' text format."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from hotline.bootstrap import Context
from hotline.bridge_client import ALIVE_KEY
from hotline.live.publisher import NODES_KEY, live_keys
from storage.tables import Call
from tests.clock import clear_of_local_midnight


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _count_me() -> None:
    """A job that sits in the queue for the test (never run)."""


def test_metrics_report_calls_queues_jobs_bridges_and_errors(client: TestClient, context: Context) -> None:
    clear_of_local_midnight(ZoneInfo(context.settings.timezone))  # calls offered now must count as today's
    now = datetime.now(UTC)
    with context.sessions.begin() as session:
        for i, (node, outcome) in enumerate([("pbx-a", "answered"), ("pbx-a", "answered"), ("pbx-b", "abandoned")]):
            session.add(Call(linkedid=f"1.{i}", node=node, outcome=outcome, queue="consult", offered_at=now))
        session.add(Call(linkedid="old", node="pbx-a", outcome="answered", queue="consult",
                         offered_at=now - timedelta(days=3)))  # fmt: skip
    redis = context.redis.client
    redis.zadd(NODES_KEY, {"pbx-a": time.time(), "pbx-b": time.time(), "pbx-old": time.time() - 3600})
    redis.hset(live_keys("pbx-old").queues, "consult", json.dumps({"queue": "consult", "waiting": 7}))
    joined = time.time() - 42
    for node, waiting in (("pbx-a", 2), ("pbx-b", 1)):
        snapshot = {"queue": "consult", "waiting": waiting, "oldest_joined_at": joined if node == "pbx-b" else None,
                    "members_on_duty": 3, "members_available": 1, "members_paused": 1, "talking": 1,
                    "avg_handle_s": 100.0, "updated_at": time.time()}  # fmt: skip
        redis.hset(live_keys(node).queues, "consult", json.dumps(snapshot))
    redis.set(ALIVE_KEY.format(node="pbx-a"), json.dumps({"connected": True, "rows_pending": 4}), ex=30)
    Queue("default", connection=redis).enqueue(_count_me)
    logging.getLogger("hotline.test-metrics").error("a deliberate error for the counter")

    body = client.get("/metrics")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/plain")
    samples = _samples(body.text)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("hotline_calls_today", node="pbx-a", outcome="answered") == 2  # not the one 3 days ago
    assert value("hotline_calls_today", node="pbx-b", outcome="abandoned") == 1
    assert value("hotline_queue_waiting", queue="consult") == 3  # both nodes, not the one out of service
    assert value("hotline_queue_lawyers", queue="consult", state="on_duty") == 6
    assert 42 <= value("hotline_queue_longest_wait_seconds", queue="consult") < 42 + 60
    assert value("hotline_job_queue_length", queue="default") == 1
    assert 0 <= value("hotline_job_queue_oldest_age_seconds", queue="default") < 60
    assert value("hotline_bridge_up", node="pbx-a") == 1 and value("hotline_bridge_up", node="pbx-b") == 0
    assert value("hotline_bridge_connected", node="pbx-a") == 1
    assert value("hotline_bridge_rows_pending", node="pbx-a") == 4
    assert value("hotline_database_up") == 1 and value("hotline_redis_up") == 1
    assert value("hotline_log_errors_total", logger="hotline.test-metrics") >= 1
    client.get("/api/health")
    again = _samples(client.get("/metrics").text)
    assert again[("hotline_http_requests_total", (("method", "GET"), ("route", "/api/health"), ("status", "200")))] >= 1
