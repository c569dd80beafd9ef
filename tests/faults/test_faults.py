"""The fault suite: the whole service (`hotline serve --no-bridge`: API, outbox relay, scheduler, the
supervised worker pools) on a PostgreSQL and a redis-server this test starts on free loopback ports,
under concurrent clients, while its components fail in turn:

1. Redis is killed and started again empty (no persistence: every queued job is lost);
2. a worker is killed (SIGKILL) in the middle of its jobs;
3. the database is stopped for 20 s;
4. the service itself is killed (SIGKILL, with its workers) and started again.

Then: every ticket the API acknowledged (201) is routed, exactly once in effect (one routing decision
and one `route` event each, no message given up), a killed worker is back within 10 s, and /api/health
said so (not ok) while a component was down.

It runs in the PostgreSQL pass (`scripts/test --services`); bounded to a few minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from hotline.demo import DEMO_USERS
from storage.db import make_engine, make_session_factory
from storage.tables import OutboxMessage, Ticket, TicketEvent
from tests.conftest import REPO
from tests.servers import PostgresServer, RedisServer, free_port, service_env

pytestmark = pytest.mark.skipif(
    not (os.environ.get("HOTLINE_DATABASE_URL") or "").startswith("postgresql"),
    reason="the fault suite runs in the PostgreSQL pass (scripts/test --services)",
)

LAWYERS = [u for u in DEMO_USERS if u.username.startswith("lawyer")]
#: Bounds on waiting (not speed requirements): a test that cannot finish fails instead of hanging.
SETTLE_S = 120.0
WORKER_BACK_S = 10.0


def call(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"null")


@dataclass
class Service:
    env: dict[str, str]
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "serve", "--no-bridge"],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: killed with its workers
            )
        self.wait_up()

    def wait_up(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, body = call(f"{self.url}/api/health")
                if status == 200 and body["components"]["workers"]["count"] >= 2:
                    return
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"the service did not come up; its log: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@dataclass
class Load:
    """Clients creating tickets until stopped; a request that fails is retried with its Idempotency-Key,
    as a client should, so every ticket acknowledged is counted once."""

    url: str
    tokens: list[str]
    acknowledged: list[str] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for token in self.tokens:
            thread = threading.Thread(target=self._client, args=(token,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _client(self, token: str) -> None:
        n = 0
        while not self._stop.is_set():
            key = uuid.uuid4().hex
            body = {"description": f"老板拖欠工资第{n}次来电", "caller_number": "13800138000", "category": "劳动争议"}
            while not self._stop.is_set():
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
                try:
                    status, answer = call(f"{self.url}/api/tickets", body, headers)
                except OSError:
                    status, answer = 0, None
                if status == 201:
                    self.acknowledged.append(answer["code"])
                    break
                assert status in (0, 503), (status, answer)  # an outage, never a 500
                self.refused[status] = self.refused.get(status, 0) + 1
                time.sleep(0.2)
            n += 1
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[PostgresServer, RedisServer, Service]]:
    postgres = PostgresServer().start()
    redis_server = RedisServer(tmp_path).start()
    port = free_port()
    env = service_env(postgres, redis_server, tmp_path / "var", port)
    setup = subprocess.run([sys.executable, "-m", "hotline.cli", "setup"], env=env, cwd=REPO, capture_output=True)
    assert setup.returncode == 0, setup.stderr.decode()
    service = Service(env, f"http://127.0.0.1:{port}", tmp_path / "service.log")
    try:
        yield postgres, redis_server, service
    finally:
        service.stop()
        redis_server.kill()
        postgres.remove()


def diagnose(postgres: PostgresServer, codes: set[str]) -> list[Any]:
    """The outbox rows of tickets that were not routed, to say where they stopped."""
    engine = make_engine(postgres.url)
    with make_session_factory(engine)() as session:
        ids = set(session.scalars(select(Ticket.id).where(Ticket.code.in_(codes))))
        rows = [
            (
                m.id,
                m.job,
                m.args,
                m.attempts,
                m.dispatched_at,
                m.redeliver_at,
                m.completed_at,
                m.failed_at,
                m.last_error,
            )
            for m in session.scalars(select(OutboxMessage))
            if m.job.endswith("route_ticket") and m.args and m.args[0] in ids
        ]
    engine.dispose()
    return rows[:10]


def health(service: Service) -> dict[str, Any]:
    try:
        return call(f"{service.url}/api/health")[1] or {}
    except OSError:
        return {"status": "unreachable"}


def worker_pids(redis_url: str) -> set[int]:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="hotline:worker:*:alive"))
        return {json.loads(v)["pid"] for v in client.mget(keys) if v} if keys else set()
    finally:
        client.close()


def test_acknowledged_tickets_are_routed_exactly_once_through_every_fault(
    stack: tuple[PostgresServer, RedisServer, Service],
) -> None:
    postgres, redis_server, service = stack
    service.start()
    tokens = []
    for lawyer in LAWYERS:
        status, answer = call(
            f"{service.url}/api/auth/login", {"username": lawyer.username, "password": lawyer.password}
        )
        assert status == 200, answer
        tokens.append(answer["token"])
    load = Load(service.url, tokens * 2)
    load.start()
    seen: dict[str, str] = {}
    try:
        time.sleep(3)
        # 1. Redis killed, then started again empty.
        redis_server.kill()
        seen["redis down"] = health(service).get("status", "")
        time.sleep(2)
        redis_server.start()
        time.sleep(3)

        # 2. A worker killed in the middle of its jobs; the pool replaces it.
        before = worker_pids(redis_server.url)
        assert before, "no worker is alive"
        victim = sorted(before)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + WORKER_BACK_S
        while time.monotonic() < deadline and len(worker_pids(redis_server.url) - {victim}) < len(before):
            time.sleep(0.2)
        assert len(worker_pids(redis_server.url) - {victim}) >= len(before), "no worker came back within 10 s"

        # 3. The database stopped for 20 s.
        postgres.stop()
        time.sleep(2)
        seen["database down"] = health(service).get("status", "")
        time.sleep(18)
        postgres.start()
        time.sleep(3)

        # 4. The service killed with its workers, then started again.
        service.kill()
        service.start()
        time.sleep(3)
    finally:
        load.stop()

    assert seen["redis down"] != "ok" and seen["database down"] != "ok", seen
    acknowledged = set(load.acknowledged)
    assert len(acknowledged) == len(load.acknowledged) > 20  # one ticket per acknowledgement
    engine = make_engine(postgres.url)
    sessions = make_session_factory(engine)
    deadline = time.monotonic() + SETTLE_S
    while True:
        with sessions() as session:
            route_events = dict(
                session.execute(
                    select(Ticket.code, func.count(TicketEvent.id))
                    .join(TicketEvent, (TicketEvent.ticket_id == Ticket.id) & (TicketEvent.action == "route"))
                    .group_by(Ticket.code)
                ).all()
            )
            owed = session.scalar(select(func.count()).where(OutboxMessage.completed_at.is_(None))) or 0
        unrouted = acknowledged - set(route_events)
        if (not unrouted and not owed) or time.monotonic() > deadline:
            break
        time.sleep(1)
    with sessions() as session:
        stored = set(session.scalars(select(Ticket.code)))
        failed = session.scalar(select(func.count()).where(OutboxMessage.failed_at.is_not(None)))
    engine.dispose()
    assert not unrouted, f"{len(unrouted)} acknowledged tickets never routed: {diagnose(postgres, unrouted)}"
    assert acknowledged <= stored
    # A retried request never made a second ticket: at most the requests in flight when the load
    # stopped are stored without their acknowledgement.
    assert len(stored - acknowledged) <= len(load.tokens)
    assert {code: n for code, n in route_events.items() if code in acknowledged and n != 1} == {}
    assert failed == 0 and owed == 0
    assert health(service)["components"]["workers"]["count"] >= 2
