"""What a working day needs besides the happy path: drafts kept per call, crisis alerts acknowledged
by name, triage decisions, and account administration (all audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hotline.bootstrap import Context
from storage.tables import AccountAudit, User
from tests.conftest import station_id
from tests.integration.conftest import COUNTY, PASSWORD, Staff


def test_drafts_are_kept_per_lawyer_and_call(client: TestClient, staff: dict[str, Staff]) -> None:
    one, two = staff["lawyer1"].headers, staff["lawyer2"].headers
    first = {"description": "第一个来电：工资被拖欠", "category": "劳动争议", "flags": ["collective"]}
    assert client.put("/api/console/drafts/1795.1", json={"data": first}, headers=one).status_code == 200
    second = {"description": "第二个来电"}
    assert client.put("/api/console/drafts/1795.2", json={"data": second}, headers=one).status_code == 200
    # The next call's form does not touch the first; saving again replaces only its own draft.
    assert client.put(
        "/api/console/drafts/1795.2", json={"data": {"description": "第二个来电，补充"}}, headers=one
    ).is_success
    mine = client.get("/api/console/drafts", headers=one).json()
    assert {d["key"]: d["data"]["description"] for d in mine} == {
        "1795.1": first["description"],
        "1795.2": "第二个来电，补充",
    }
    assert mine[0]["key"] == "1795.2"  # newest first
    assert client.get("/api/console/drafts", headers=two).json() == []  # another lawyer's are not shown
    assert client.delete("/api/console/drafts/1795.2", headers=one).status_code == 204
    assert [d["key"] for d in client.get("/api/console/drafts", headers=one).json()] == ["1795.1"]
    # Bad input: refused with a reason, nothing lost.
    assert client.put("/api/console/drafts/bad key", json={"data": {}}, headers=one).status_code in (404, 422)
    assert client.put("/api/console/drafts/x", json={"data": "text"}, headers=one).status_code == 422
    big = {"description": "长" * 20_000}
    refused = client.put("/api/console/drafts/1795.1", json={"data": big}, headers=one)
    assert refused.status_code == 400 and "草稿过大" in refused.json()["error"]["message"]
    assert client.get("/api/console/drafts", headers=one).json()[0]["data"] == first
    assert client.get("/api/console/drafts", headers=staff["supervisor"].headers).status_code == 403


def test_a_crisis_alert_is_acknowledged_by_a_named_supervisor(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    created = client.post(
        "/api/tickets",
        json={"description": "来电人说不想活了", "flags": ["crisis"], "priority": "urgent"},
        headers=staff["lawyer1"].headers,
    )
    code = created.json()["code"]
    boss = staff["supervisor"].headers
    assert client.get("/api/alerts", headers=staff["lawyer1"].headers).status_code == 403
    open_alerts = client.get("/api/alerts", headers=boss).json()
    assert [a["code"] for a in open_alerts["items"]] == [code]
    acked = client.post(f"/api/alerts/{code}/ack", json={"note": "已联系110"}, headers=boss)
    assert acked.status_code == 200, acked.text
    assert client.get("/api/alerts", headers=boss).json()["items"] == []
    again = client.post(f"/api/alerts/{code}/ack", json={}, headers=boss)
    assert again.status_code == 409
    events = client.get(f"/api/tickets/{code}", headers=boss).json()["events"]
    ack = next(e for e in events if e["action"] == "alert_ack")
    assert ack["actor_name"] == "supervisor" and ack["note"] == "已联系110"


def test_a_triage_decision_sets_the_category_forwards_and_is_kept_for_the_router(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    lawyer = staff["lawyer1"].headers
    code = client.post("/api/tickets", json={"description": "说不清楚的问题"}, headers=lawyer).json()["code"]
    assert code in [t["code"] for t in client.get("/api/triage", headers=lawyer).json()["items"]]
    with context.sessions() as session:
        county = station_id(session, COUNTY)
    bad = client.post(f"/api/triage/{code}/decision", json={"category": "不存在的类别"}, headers=lawyer)
    assert bad.status_code == 422
    decided = client.post(
        f"/api/triage/{code}/decision", json={"category": "劳动争议", "station_id": county}, headers=lawyer
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["category"], body["status"], body["station_name"]) == (
        "劳动争议",
        "forwarded",
        "乐至县公共法律服务中心",
    )
    assert code not in [t["code"] for t in client.get("/api/triage", headers=lawyer).json()["items"]]
    training = client.get("/api/triage/decisions", headers=staff["supervisor"].headers).json()
    assert training[0]["code"] == code and training[0]["category"] == "劳动争议"
    assert training[0]["text"] == "说不清楚的问题" and training[0]["station_id"] == county
    again = client.post(f"/api/triage/{code}/decision", json={"category": "劳动争议"}, headers=lawyer)
    assert again.status_code == 409


def test_admins_manage_accounts_and_every_act_is_audited(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    admin = staff["admin"].headers
    assert client.get("/api/admin/users", headers=staff["supervisor"].headers).status_code == 403
    made = client.post(
        "/api/admin/users",
        json={"username": "lawyer9", "password": "Yellow-River-42-bridge", "role": "lawyer", "display_name": "新律师"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    listed = {u["username"]: u for u in client.get("/api/admin/users", headers=admin).json()}
    assert listed["lawyer9"]["role_label"] == "值班律师" and listed["lawyer9"]["is_active"] is True
    # Role and station, then disable: the user's open session ends at once.
    lawyer2 = staff["lawyer2"].headers
    moved = client.patch(
        "/api/admin/users/lawyer2", json={"role": "station_staff", "station_code": COUNTY}, headers=admin
    )
    assert moved.status_code == 200 and set(moved.json()["changes"]) == {"role_change", "station_change"}
    assert client.patch("/api/admin/users/lawyer2", json={"is_active": False}, headers=admin).is_success
    assert client.get("/api/auth/me", headers=lawyer2).status_code == 401
    assert sign_in_status(client, "lawyer2", PASSWORD) == 401
    assert client.patch("/api/admin/users/lawyer2", json={"is_active": True}, headers=admin).is_success
    # Reset: a random password, shown once, works; the old one does not.
    reset = client.post("/api/admin/users/lawyer2/password", json={}, headers=admin).json()
    assert sign_in_status(client, "lawyer2", PASSWORD) == 401
    assert sign_in_status(client, "lawyer2", reset["password"]) == 200
    # Locked out after failed sign-ins, unlocked by the admin.
    for _ in range(11):
        sign_in_status(client, "lawyer1", "wrong password")
    assert sign_in_status(client, "lawyer1", PASSWORD) == 429
    assert {u["username"]: u["locked"] for u in client.get("/api/admin/users", headers=admin).json()}["lawyer1"]
    assert client.post("/api/admin/users/lawyer1/unlock", headers=admin).json()["locks_cleared"] == 1
    assert sign_in_status(client, "lawyer1", PASSWORD) == 200
    # Refusals: unknown user, own account, bad station.
    assert client.patch("/api/admin/users/nobody", json={"is_active": False}, headers=admin).status_code == 404
    assert client.patch("/api/admin/users/admin", json={"is_active": False}, headers=admin).status_code == 409
    assert client.patch("/api/admin/users/lawyer9", json={"station_code": "999999"}, headers=admin).status_code == 422
    actions = [a["action"] for a in client.get("/api/admin/audit", headers=admin).json()]
    assert actions == ["user_unlock", "password_reset", "user_enable", "user_disable", "role_change",
                       "station_change", "user_create"]  # fmt: skip
    with context.sessions() as session:
        assert session.scalar(select(AccountAudit.actor_id).limit(1)) == staff["admin"].user_id


def sign_in_status(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return response.status_code


def test_a_station_calls_the_citizen_only_through_the_bridge(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    with context.sessions() as session:
        county = station_id(session, COUNTY)
    lawyer = staff["lawyer1"].headers
    code = client.post(
        "/api/tickets", json={"description": "欠薪", "caller_number": "13912340000"}, headers=lawyer
    ).json()["code"]
    client.post(f"/api/tickets/{code}/transitions", json={"to": "forwarded", "station_id": county}, headers=lawyer)
    station = staff["county"].headers
    no_phone = client.post(f"/api/tickets/{code}/dial", headers=station)
    assert no_phone.status_code == 422 and "未配置话机" in no_phone.json()["error"]["message"]
    with context.sessions.begin() as session:
        session.execute(update(User).where(User.username == "county").values(interface="PJSIP/2001"))
    no_bridge = client.post(f"/api/tickets/{code}/dial", headers=station)
    assert no_bridge.status_code == 503  # no bridge runs here: said at once, nothing recorded
    assert client.post(f"/api/tickets/{code}/dial", headers=staff["other"].headers).status_code == 404
    shown = client.get(f"/api/tickets/{code}", headers=station).json()
    assert shown["caller_number"] == "139****0000" and "dial" not in [e["action"] for e in shown["events"]]
