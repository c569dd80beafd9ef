"""Sign-in and session hardening: atomic throttling that fails closed, trusted proxies, admin unlock,
account rules, the Origin check on cookie sessions, and the feed ending with its session."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient

from hotline.accounts import InvalidAccount, create_user
from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.cli.main import proxy_options
from hotline.login_throttle import FAILURES_PREFIX, MAX_FAILURES
from hotline.redis_conn import RedisHandle
from settings.env import Settings
from tests.integration.conftest import PASSWORD, Staff
from ticketing.domain.roles import Role


def wrong(client: TestClient, username: str = "lawyer2"):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"username": username, "password": "wrong-pass-x"})


def test_parallel_wrong_passwords_are_counted_before_they_are_checked(
    client: TestClient, staff: dict[str, Staff]
) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(r.status_code for r in pool.map(lambda _: wrong(client), range(40)))
    assert statuses == {401: MAX_FAILURES, 429: 40 - MAX_FAILURES}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dead_redis() -> RedisHandle:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    return RedisHandle(url=url, client=redis.Redis.from_url(url, socket_connect_timeout=0.5), mode="server")


def test_sign_in_fails_closed_while_redis_is_down(context: Context, staff: dict[str, Staff]) -> None:
    down = dead_redis()
    with TestClient(create_app(dataclasses.replace(context, redis=down))) as client:
        response = client.post("/api/auth/login", json={"username": "lawyer1", "password": PASSWORD})
    down.client.close()
    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"component": "redis"}


def test_an_admin_lifts_a_lock_and_others_may_not(client: TestClient, staff: dict[str, Staff]) -> None:
    for _ in range(MAX_FAILURES + 1):
        wrong(client)
    assert client.post("/api/auth/login", json={"username": "lawyer2", "password": PASSWORD}).status_code == 429
    assert client.delete("/api/users/lawyer2/lockout", headers=staff["supervisor"].headers).status_code == 403
    lifted = client.delete("/api/users/lawyer2/lockout", headers=staff["admin"].headers)
    assert lifted.status_code == 200 and lifted.json()["addresses_unlocked"] == 1
    assert client.post("/api/auth/login", json={"username": "lawyer2", "password": PASSWORD}).status_code == 200
    assert client.delete("/api/users/nobody/lockout", headers=staff["admin"].headers).status_code == 404


@pytest.fixture
def served(context: Context) -> Iterator[tuple[str, dict[str, uvicorn.Server]]]:
    """The app under a real uvicorn, once with the default settings and once trusting loopback proxies."""
    servers = {}
    threads = []
    for name, trusted in (("direct", ""), ("proxied", "127.0.0.1")):
        settings = Settings(**{**context.settings.model_dump(), "trusted_proxies": trusted})
        config = uvicorn.Config(
            create_app(context), host="127.0.0.1", port=free_port(), log_level="warning", **proxy_options(settings)
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers[name] = server
        threads.append(thread)
    deadline = time.monotonic() + 20
    while not all(s.started for s in servers.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield "127.0.0.1", servers
    for server in servers.values():
        server.should_exit = True
    for thread in threads:
        thread.join(10)


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    context: Context, staff: dict[str, Staff], served: tuple[str, dict[str, uvicorn.Server]]
) -> None:
    host, servers = served
    for name, server in servers.items():
        url = f"http://{host}:{server.config.port}/api/auth/login"
        body = {"username": f"{name}-user", "password": "wrong-pass-x"}
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        refused.value.close()
    keys = {k.decode() for k in context.redis.client.scan_iter(match=FAILURES_PREFIX + "*")}
    assert keys == {FAILURES_PREFIX + "127.0.0.1:direct-user", FAILURES_PREFIX + "203.0.113.9:proxied-user"}


@pytest.mark.parametrize("username", ["", "admin ", "<script>", "a", "名字", "x" * 65])
def test_usernames_outside_the_rules_are_refused(context: Context, username: str) -> None:
    with context.sessions.begin() as session, pytest.raises(InvalidAccount, match="username"):
        create_user(session, username, "correct-horse-12348", Role.LAWYER)


@pytest.mark.parametrize("password", ["12345678", "        ", "password", "qwertyuiop", "lawyer77lawyer77"])
def test_guessable_passwords_are_refused(context: Context, password: str) -> None:
    with context.sessions.begin() as session, pytest.raises(InvalidAccount, match="password"):
        create_user(session, "lawyer77", password, Role.LAWYER)


def test_the_api_refuses_a_weak_password_with_422(client: TestClient, staff: dict[str, Staff]) -> None:
    body = {"username": "lawyer3", "password": "12345678", "role": "lawyer"}
    response = client.post("/api/users", json=body, headers=staff["admin"].headers)
    assert response.status_code == 422 and "password" in response.json()["error"]["message"]


def cookie_client(client: TestClient, username: str = "lawyer1") -> None:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200


def test_cookie_state_changes_need_this_sites_origin(client: TestClient, staff: dict[str, Staff]) -> None:
    cookie_client(client)
    body = {"description": "Origin check", "channel": "phone"}
    missing = client.post("/api/tickets", json=body)
    assert missing.status_code == 403 and missing.json()["error"]["id"] == "cross_site_request"
    foreign = client.post("/api/tickets", json=body, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    own = client.post("/api/tickets", json=body, headers={"Origin": "http://testserver"})
    assert own.status_code == 201, own.text
    # Reading needs no Origin; a bearer token carries no ambient credential.
    assert client.get("/api/tickets").status_code == 200
    client.cookies.clear()
    assert client.post("/api/tickets", json=body, headers=staff["lawyer1"].headers).status_code == 201
    with_foreign = client.post(
        "/api/tickets", json=body, headers={**staff["lawyer1"].headers, "Origin": "https://evil.example"}
    )
    assert with_foreign.status_code == 403
