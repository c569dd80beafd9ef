"""GET /api/live: what the bridge published, numbers masked per role, the simulator labelled."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from hotline.bootstrap import Context
from hotline.live.publisher import AGENTS_KEY, CALLS_KEY, META_KEY, QUEUES_KEY
from tests.integration.conftest import Staff


def publish(context: Context) -> None:
    client = context.redis.client
    client.hset(META_KEY, mapping={"source": "simulator", "epoch": "x"})
    client.hset(
        CALLS_KEY,
        "1795449000.1",
        json.dumps({"linkedid": "1795449000.1", "caller_number": "13808081234", "state": "waiting", "started_at": 1}),
    )
    client.hset(AGENTS_KEY, "PJSIP/1001", json.dumps({"interface": "PJSIP/1001", "state": "paused", "reason": "培训"}))
    client.hset(QUEUES_KEY, "consult", json.dumps({"queue": "consult", "waiting": 1, "oldest_joined_at": 1.0}))


def test_live_state_for_the_supervisor(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    publish(context)
    body = client.get("/api/live", headers=staff["supervisor"].headers).json()
    assert body["simulated"] is True and body["source"] == "simulator" and body["bridge_running"] is False
    assert body["calls"][0]["caller_number"] == "13808081234"
    assert body["agents"] == [{"interface": "PJSIP/1001", "state": "paused", "reason": "培训"}]
    assert body["queues"][0]["waiting"] == 1 and body["queues"][0]["longest_wait_s"] > 0


def test_live_state_is_not_for_station_staff_or_strangers(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    publish(context)
    assert client.get("/api/live", headers=staff["county"].headers).status_code == 403
    response = client.get("/api/live")
    assert response.status_code == 401 and response.json()["error"]["id"] == "not_authenticated"


def test_a_lawyer_sees_in_full_only_the_calls_put_through_to_them(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    from sqlalchemy import update

    from storage.tables import User

    with context.sessions.begin() as session:
        session.execute(update(User).where(User.username == "lawyer1").values(interface="PJSIP/1001"))
    client_redis = context.redis.client
    for linkedid, number, interface in (("1.1", "13808081234", "PJSIP/1001"), ("2.2", "13900001111", "PJSIP/1002")):
        call = {"linkedid": linkedid, "caller_number": number, "agent_interface": interface, "started_at": 1,
                "recording_paths": [f"/var/spool/asterisk/monitor/{linkedid}.wav"]}  # fmt: skip
        client_redis.hset(CALLS_KEY, linkedid, json.dumps(call))
    calls = {c["linkedid"]: c for c in client.get("/api/live", headers=staff["lawyer1"].headers).json()["calls"]}
    assert calls["1.1"]["caller_number"] == "13808081234"
    assert calls["2.2"]["caller_number"] == "139****1111"
    supervisor = client.get("/api/live", headers=staff["supervisor"].headers).json()["calls"]
    assert {c["caller_number"] for c in supervisor} == {"13808081234", "13900001111"}
    # A recording's file path is shown to nobody: recordings play through /api/calls/{id}/recordings/{n}.
    assert not any("recording_paths" in c for c in [*calls.values(), *supervisor])
