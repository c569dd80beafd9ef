"""Sign-in, sessions, role checks, the station directory and health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hotline.api.routes.auth import MAX_FAILURES
from hotline.bootstrap import Context
from storage.tables import AuthSession, User
from tests.integration.conftest import PASSWORD, Staff


def test_every_ticket_endpoint_needs_a_sign_in(client: TestClient) -> None:
    for method, path in [("get", "/api/tickets"), ("post", "/api/tickets"), ("get", "/api/stations")]:
        response = getattr(client, method)(path)
        assert response.status_code == 401
        assert response.json()["error"]["id"] == "not_authenticated"


def test_login_returns_token_and_me(client: TestClient, staff: dict[str, Staff]) -> None:
    me = client.get("/api/auth/me", headers=staff["lawyer1"].headers).json()
    assert me["username"] == "lawyer1" and me["role"] == "lawyer"


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, staff: dict[str, Staff]) -> None:
    wrong = client.post("/api/auth/login", json={"username": "lawyer1", "password": "nope-nope"})
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_stored_password_is_an_argon2_hash(context: Context, staff: dict[str, Staff]) -> None:
    with context.sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "lawyer1"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_repeated_failures_lock_the_login_for_a_while(client: TestClient, staff: dict[str, Staff]) -> None:
    for _ in range(MAX_FAILURES):
        assert client.post("/api/auth/login", json={"username": "lawyer2", "password": "wrong-pass"}).status_code == 401
    locked = client.post("/api/auth/login", json={"username": "lawyer2", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"]["id"] == "too_many_attempts"
    # Another account from the same address is unaffected.
    assert client.post("/api/auth/login", json={"username": "lawyer1", "password": PASSWORD}).status_code == 200


def test_logout_revokes_the_token(client: TestClient, staff: dict[str, Staff]) -> None:
    headers = staff["lawyer1"].headers
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_expired_session_is_refused(client: TestClient, context: Context, staff: dict[str, Staff]) -> None:
    with context.sessions.begin() as session:
        session.execute(update(AuthSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = client.get("/api/auth/me", headers=staff["lawyer1"].headers)
    assert response.status_code == 401


def test_garbage_tokens_are_401(client: TestClient) -> None:
    for header in ["Bearer", "Bearer \x7f\x7f", "Basic Zm9vOmJhcg==", "Bearer " + "a" * 5000]:
        assert client.get("/api/auth/me", headers={"Authorization": header}).status_code == 401


def test_only_admins_create_users(client: TestClient, staff: dict[str, Staff]) -> None:
    body = {"username": "lawyer3", "password": "long-enough-pw", "role": "lawyer", "display_name": "赵律师"}
    assert client.post("/api/users", json=body, headers=staff["supervisor"].headers).status_code == 403
    created = client.post("/api/users", json=body, headers=staff["admin"].headers)
    assert created.status_code == 201 and created.json()["display_name"] == "赵律师"
    again = client.post("/api/users", json=body, headers=staff["admin"].headers)
    assert again.status_code == 409
    staffless = {**body, "username": "station9", "role": "station_staff"}
    assert client.post("/api/users", json=staffless, headers=staff["admin"].headers).status_code == 409
    unknown_station = {**staffless, "station_code": "999999"}
    assert client.post("/api/users", json=unknown_station, headers=staff["admin"].headers).status_code == 422


def test_lawyers_cannot_list_users(client: TestClient, staff: dict[str, Staff]) -> None:
    assert client.get("/api/users", headers=staff["lawyer1"].headers).status_code == 403
    names = [u["username"] for u in client.get("/api/users", headers=staff["supervisor"].headers).json()]
    assert "lawyer1" in names and all("password" not in str(u) for u in names)


def test_station_tree_nests_by_division(client: TestClient, staff: dict[str, Staff]) -> None:
    tree = client.get("/api/stations", headers=staff["lawyer1"].headers).json()
    assert [root["division_code"] for root in tree] == ["510000"]

    def find(nodes: list[dict], code: str) -> dict | None:
        for node in nodes:
            if node["division_code"] == code:
                return node
            found = find(node["children"], code)
            if found:
                return found
        return None

    county = find(tree, "512022")
    assert county is not None and county["level"] == "county"
    assert county["children"] and all(c["division_code"].startswith("512022") for c in county["children"])


def test_categories_come_from_config(client: TestClient, staff: dict[str, Staff]) -> None:
    body = client.get("/api/categories", headers=staff["lawyer1"].headers).json()
    assert "劳动争议" in [c["name"] for c in body["categories"]]


def test_health_reports_database_and_redis(client: TestClient, context: Context) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "degraded"  # no worker, bridge or IVR runs in this test
    assert body["database"] == {"backend": context.engine.dialect.name, "ok": True}
    assert body["redis"]["ok"] is True and body["redis"]["mode"] == context.redis.mode
    assert "demo mode" in body["pbx"] and "simulated" in body["pbx"]
    assert body["bridge"] == {"running": False}  # no bridge in this test; the API works without one
    context.redis.client.set("hotline:bridge:default:alive", '{"connected": true, "source": "simulator"}', ex=5)
    body = client.get("/api/health").json()
    assert body["bridge"] == {"running": True, "connected": True, "source": "simulator"}
