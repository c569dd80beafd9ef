"""Health reports each component with a status monitoring can alert on: ok only when all are ok."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from rq import Queue
from rq.utils import utcformat

from hotline.api.routes.health import bridge_component
from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.jobs.outbox import WORKER_ALIVE_KEY
from hotline.supervise import IVR_ALIVE_KEY
from storage.tables import OutboxMessage
from tests.integration.test_sign_in_hardening import dead_redis

BRIDGE_ALIVE = "hotline:bridge:default:alive"


def everything_running(context: Context) -> None:
    client = context.redis.client
    client.set(WORKER_ALIVE_KEY.format(name="w1"), json.dumps({"pid": 1, "queues": ["sweeps", "default"]}), ex=30)
    client.set(BRIDGE_ALIVE, json.dumps({"connected": True, "source": "simulator"}), ex=30)
    client.set(IVR_ALIVE_KEY.format(node="default"), json.dumps({"port": 4573}), ex=30)


def test_ok_only_when_every_component_is(client: TestClient, context: Context) -> None:
    bare = client.get("/api/health").json()
    assert bare["status"] == "degraded"
    components = bare["components"]
    assert components["database"]["status"] == components["redis"]["status"] == "ok"
    assert components["workers"]["status"] == "degraded" and components["workers"]["count"] == 0
    assert "no worker serves default" in components["workers"]["problems"]
    assert components["bridge"]["status"] == components["ivr"]["status"] == "degraded"
    everything_running(context)
    body = client.get("/api/health")
    assert body.status_code == 200 and body.json()["status"] == "ok", body.json()
    assert body.json()["components"]["workers"]["count"] == 1


def test_a_queue_falling_behind_or_a_failed_message_is_degraded(client: TestClient, context: Context) -> None:
    everything_running(context)
    queue = Queue("default", connection=context.redis.client)
    job = queue.enqueue("builtins.print", "late")
    context.redis.client.hset(job.key, "enqueued_at", utcformat(datetime.now(UTC) - timedelta(minutes=5)))
    workers = client.get("/api/health").json()["components"]["workers"]
    assert workers["status"] == "degraded" and workers["queues"]["default"]["oldest_s"] >= 290
    queue.empty()
    with context.sessions.begin() as session:
        session.add(OutboxMessage(event="ticket.event_recorded", args=[1], failed_at=datetime.now(UTC)))
    workers = client.get("/api/health").json()["components"]["workers"]
    assert workers["status"] == "degraded" and workers["outbox"]["failed"] == 1


def test_the_bridge_component_follows_its_heartbeat() -> None:
    assert bridge_component(None)["status"] == "degraded"
    assert bridge_component({"connected": True, "source": "asterisk"})["status"] == "ok"
    lost = bridge_component({"connected": False, "source": "asterisk", "reason": "AMI connection refused"})
    assert lost["status"] == "degraded" and lost["reason"] == "AMI connection refused" and lost["running"] is True


def test_redis_down_is_down_with_503(context: Context) -> None:
    down = dead_redis()
    with TestClient(create_app(dataclasses.replace(context, redis=down))) as client:
        response = client.get("/api/health")
    down.client.close()
    assert response.status_code == 503 and response.json()["status"] == "down"
    assert response.json()["components"]["redis"]["status"] == "down"
