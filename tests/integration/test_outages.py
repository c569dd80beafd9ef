"""Dependency outages: a request that needs Redis or the database while it is down gets 503 with
the component named, and the service recovers by itself when it is back. CLI commands run beside the
service leave its embedded Redis running."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.redis_conn import RedisHandle, connect_redis
from storage.db import make_engine, make_session_factory
from storage.tables import User
from tests.conftest import REPO
from tests.integration.conftest import Staff
from tests.servers import RedisServer, free_port


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def test_redis_down_is_503_naming_it_and_the_service_recovers(
    context: Context, staff: dict[str, Staff], own_redis: RedisServer
) -> None:
    with context.sessions.begin() as session:
        session.execute(update(User).where(User.username == "lawyer1").values(interface="PJSIP/1001"))
    handle = RedisHandle(own_redis.url, redis.Redis.from_url(own_redis.url, socket_timeout=2), "server")
    headers = staff["lawyer1"].headers
    with TestClient(create_app(dataclasses.replace(context, redis=handle))) as client:
        own_redis.kill()
        for method, path, body in (
            ("post", "/api/console/state", {"state": "on_duty"}),
            ("get", "/api/live", None),
            ("post", "/api/auth/login", {"username": "lawyer1", "password": "whatever-it-is"}),
        ):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["error"]["id"] == "service_unavailable"
            assert response.json()["error"]["details"]["component"] == "redis"
        own_redis.start()
        # Back by itself, no restart: the request is answered on its merits again (no shift now: 400).
        back = client.post("/api/console/state", json={"state": "on_duty"}, headers=headers)
        assert back.status_code == 400, back.text
        assert client.get("/api/live", headers=headers).status_code == 200
    handle.client.close()


def test_database_down_is_503_naming_it(context: Context, staff: dict[str, Staff]) -> None:
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")  # nothing listens there
    down = dataclasses.replace(context, engine=engine, sessions=make_session_factory(engine))
    with TestClient(create_app(down)) as client:
        for path in ("/api/tickets", "/api/auth/me", "/api/stations"):
            response = client.get(path, headers=staff["lawyer1"].headers)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["error"]["details"] == {"component": "database"}
            assert response.headers["Retry-After"] == "5"
    engine.dispose()


def test_a_command_beside_the_service_leaves_its_embedded_redis_running(tmp_path: Path) -> None:
    service = connect_redis(None, tmp_path)  # what `hotline serve` starts
    assert service.owns_server
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update(HOTLINE_DATA_DIR=str(tmp_path), HOTLINE_CONFIG_DIR=str(REPO / "config"))
        for command in (["setup", "--no-demo"], ["kpi", "rebuild", "--from", "2026-12-01", "--to", "2026-12-01"]):
            result = subprocess.run(
                [sys.executable, "-m", "hotline.cli", *command], env=env, cwd=REPO, capture_output=True, timeout=120
            )
            assert result.returncode == 0, result.stderr.decode()
            assert service.client.ping()  # still up after the command exited
        joined = connect_redis(None, tmp_path)
        assert not joined.owns_server and joined.url == service.url
        joined.close()
        assert service.client.ping()
    finally:
        service.close()
