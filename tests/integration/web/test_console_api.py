"""The lawyer console's API: duty state, screen-pop (full number for the lawyer on the call only,
audited once), and the errors a lawyer sees when the telephony bridge cannot help."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hotline.api.routes.console import duty_state
from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.live.publisher import AGENTS_KEY, CALLS_KEY
from storage.tables import Call, Caller, IvrSession, PersonalDataView, Ticket, User
from tests.integration.conftest import Staff

NUMBER = "13800001111"
LINKEDID = "1795700000.42"


def _give_phone(context: Context, username: str, interface: str) -> None:
    with context.sessions.begin() as session:
        session.execute(update(User).where(User.username == username).values(interface=interface))


def _ringing_call(context: Context) -> None:
    now = time.time()
    call = {"linkedid": LINKEDID, "caller_number": NUMBER, "state": "talking", "queue": "family",
            "offered_at": now - 30, "answered_at": now - 5, "agent_interface": "PJSIP/1001", "green": None}  # fmt: skip
    context.redis.client.hset(CALLS_KEY, LINKEDID, json.dumps(call))
    with context.sessions.begin() as session:
        caller = Caller(number=NUMBER, name="赵女士", groups=["migrant_worker"], call_count=3)
        earlier = datetime.now(UTC) - timedelta(days=3)
        session.add(Call(linkedid="1795000000.1", caller=caller, caller_number=NUMBER, queue="labour",
                         outcome="answered", started_at=earlier, offered_at=earlier, talk_seconds=120.0))  # fmt: skip
        session.add(IvrSession(uniqueid=LINKEDID, caller_number=NUMBER, path=[{"node": "main", "key": "3"}],
                               exit="queue:family", flags=["green:elderly"]))  # fmt: skip


def test_the_lawyer_on_the_call_gets_the_whole_screen_pop(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    _give_phone(context, "lawyer1", "PJSIP/1001")
    _ringing_call(context)
    earlier = client.post(
        "/api/tickets",
        json={"description": "<b>讨薪</b>", "caller_number": NUMBER, "category": "劳动争议"},
        headers=staff["lawyer2"].headers,
    )
    assert earlier.status_code == 201
    pop = client.get(f"/api/console/calls/{LINKEDID}", headers=staff["lawyer1"].headers)
    assert pop.status_code == 200, pop.text
    body = pop.json()
    assert body["caller_number"] == NUMBER and body["caller_name"] == "赵女士"
    assert [g["label"] for g in body["green_channel"]] == ["农民工", "老年人"]
    assert body["ivr_path"] == [{"node": "main", "key": "3"}] and body["queue"] == "family"
    assert 24 <= body["waited_s"] <= 26
    assert [c["linkedid"] for c in body["previous_calls"]] == ["1795000000.1"]
    ticket = body["previous_tickets"][0]
    assert ticket["category"] == "劳动争议" and ticket["open"] and not ticket["can_open"]  # lawyer2's ticket
    assert body["open_tickets"] == [earlier.json()["code"]]
    client.get(f"/api/console/calls/{LINKEDID}", headers=staff["lawyer1"].headers)
    with context.sessions() as session:
        views = session.scalars(select(PersonalDataView)).all()
        assert [(v.kind, v.subject, v.user_id) for v in views] == [("screen_pop", LINKEDID, staff["lawyer1"].user_id)]
        assert views[0].caller_id is not None and "caller_number" in views[0].fields
    audit = client.get("/api/audit/views", headers=staff["supervisor"].headers).json()
    assert audit[0]["username"] == "lawyer1" and audit[0]["kind"] == "screen_pop"


def test_other_people_get_no_screen_pop(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    _give_phone(context, "lawyer1", "PJSIP/1001")
    _give_phone(context, "lawyer2", "PJSIP/1002")
    _ringing_call(context)
    assert client.get(f"/api/console/calls/{LINKEDID}", headers=staff["lawyer2"].headers).status_code == 403
    assert client.get(f"/api/console/calls/{LINKEDID}", headers=staff["county"].headers).status_code == 403
    assert client.get("/api/console/calls/1.999", headers=staff["lawyer1"].headers).status_code == 404
    assert client.get("/api/console/calls/bad%20id", headers=staff["lawyer1"].headers).status_code == 422
    assert client.get("/api/audit/views", headers=staff["lawyer1"].headers).status_code == 403
    # A supervisor may look (and is audited like anyone).
    assert client.get(f"/api/console/calls/{LINKEDID}", headers=staff["supervisor"].headers).status_code == 200


def test_duty_state_follows_the_pause_reason() -> None:
    member = {"paused": True, "reason": "下线"}
    assert duty_state(None) == "off_duty"
    assert duty_state({"state": "paused", "queues": {"a": member, "b": member}}) == "off_duty"
    assert duty_state({"state": "paused", "queues": {"a": {"paused": True, "reason": "培训"}}}) == "paused"
    assert duty_state({"state": "talking", "queues": {"a": {"paused": False}}}) == "talking"


def test_me_shows_the_duty_state_and_softphone(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    _give_phone(context, "lawyer1", "PJSIP/1001")
    agent = {
        "interface": "PJSIP/1001",
        "state": "paused",
        "reason": "休息",
        "queues": {"consult": {"paused": True, "reason": "休息"}},
    }
    context.redis.client.hset(AGENTS_KEY, "PJSIP/1001", json.dumps(agent))
    body = client.get("/api/console/me", headers=staff["lawyer1"].headers).json()
    assert body["duty"] == "paused" and body["interface"] == "PJSIP/1001"
    assert body["softphone"]["configured"] is False and body["simulated"] is True  # no SIP settings in tests
    assert "休息" in body["pause_reasons"] and body["shift"]["on_duty"] is False
    assert client.get("/api/console/me", headers=staff["supervisor"].headers).status_code == 403


def test_duty_changes_say_what_is_wrong(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    headers = staff["lawyer1"].headers
    response = client.post("/api/console/state", json={"state": "off_duty"}, headers=headers)
    assert response.status_code == 400 and "话机" in response.json()["error"]["message"]  # no interface yet
    _give_phone(context, "lawyer1", "PJSIP/1001")
    response = client.post("/api/console/state", json={"state": "on_duty"}, headers=headers)
    assert response.status_code == 400 and "值班时段" in response.json()["error"]["message"]  # no shift
    response = client.post("/api/console/state", json={"state": "paused", "reason": "培训"}, headers=headers)
    assert response.status_code == 503 and response.json()["error"]["id"] == "bridge_unavailable"  # no bridge
    bad = client.post("/api/console/state", json={"state": "paused", "reason": "a\nb"}, headers=headers)
    assert bad.status_code == 422
    assert client.post("/api/console/state", json={"state": "gone"}, headers=headers).status_code == 422
    assert (
        client.post("/api/console/state", json={"state": "off_duty"}, headers=staff["county"].headers).status_code
        == 403
    )


def test_scripted_calls_are_for_supervisors_in_demo_mode(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    call = {"caller_number": NUMBER, "queue": "family"}
    assert client.post("/api/demo/calls", json=call, headers=staff["lawyer1"].headers).status_code == 403
    response = client.post("/api/demo/calls", json=call, headers=staff["admin"].headers)
    assert response.status_code == 503  # demo mode, but no bridge running
    assert (
        client.post("/api/demo/calls", json={**call, "queue": "x y"}, headers=staff["admin"].headers).status_code == 422
    )
    with_asterisk = dataclasses.replace(context, settings=context.settings.model_copy(update={"ami_host": "pbx"}))
    with TestClient(create_app(with_asterisk)) as real:
        response = real.post("/api/demo/calls", json=call, headers=staff["admin"].headers)
    assert response.status_code == 409
    with context.sessions() as session:
        assert session.scalar(select(Ticket)) is None and session.scalar(select(IvrSession)) is None


def test_transfers_go_only_to_configured_extensions(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    _ringing_call(context)
    headers = staff["supervisor"].headers
    for exten in ("0096112345678", "9001", "12345#"):
        refused = client.post(f"/api/console/calls/{LINKEDID}/transfer", json={"exten": exten}, headers=headers)
        assert refused.status_code == 422, exten
        assert refused.json()["error"]["id"] == "invalid_input"
    # An allowed target goes on to the bridge (none runs in this test: 503 says so).
    allowed = client.post(f"/api/console/calls/{LINKEDID}/transfer", json={"exten": "12345"}, headers=headers)
    assert allowed.status_code == 503
