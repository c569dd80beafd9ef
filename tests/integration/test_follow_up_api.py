"""Call-backs (回访) over HTTP: task lists, attempts and ratings, what they do to the ticket, click-to-call."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hotline.api.deps import get_dialer
from hotline.bootstrap import Context
from hotline.dialing import DialerUnavailable, DialRefused, DialTimedOut
from storage.tables import Call, FollowUpTask, User
from tests.integration.conftest import Staff
from tests.integration.test_tickets_api import move, new_ticket


def closed_task(client: TestClient, staff: dict[str, Staff], **fields: object) -> tuple[str, int]:
    code = new_ticket(client, staff["lawyer1"], category="劳动争议", **fields)["code"]
    assert move(client, staff["lawyer1"], code, to="closed", result="已告知劳动仲裁途径").status_code == 200
    tasks = client.get("/api/callbacks", headers=staff["lawyer1"].headers).json()["items"]
    [task] = [t for t in tasks if t["ticket_code"] == code]
    return code, task["id"]


def attempt(client: TestClient, who: Staff, task_id: int, **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/callbacks/{task_id}/attempts", json=body, headers=who.headers)


def ticket(client: TestClient, who: Staff, code: str) -> dict[str, Any]:
    return client.get(f"/api/tickets/{code}", headers=who.headers).json()


def test_closing_makes_a_task_the_lawyer_sees_and_others_do_not(client: TestClient, staff: dict[str, Staff]) -> None:
    code, task_id = closed_task(client, staff)
    task = client.get(f"/api/callbacks/{task_id}", headers=staff["lawyer1"].headers).json()
    assert (task["ticket_code"], task["status"], task["status_label"]) == (code, "pending", "待回访")
    assert task["caller_number"] == "13808081234" and task["overdue"] is False and task["attempts"] == []
    assert task["due_date"] == ticket(client, staff["lawyer1"], code)["callback_due"]
    due = client.get("/api/callbacks", params={"state": "due"}, headers=staff["lawyer1"].headers).json()
    assert [t["id"] for t in due["items"]] == [task_id]
    assert (
        client.get("/api/callbacks", params={"state": "overdue"}, headers=staff["lawyer1"].headers).json()["total"] == 0
    )
    assert client.get("/api/callbacks", headers=staff["lawyer2"].headers).json()["total"] == 0
    assert client.get(f"/api/callbacks/{task_id}", headers=staff["lawyer2"].headers).status_code == 404
    assert client.get("/api/callbacks", headers=staff["supervisor"].headers).json()["total"] == 1
    assert client.get("/api/callbacks", headers=staff["county"].headers).status_code == 403


def test_reached_and_satisfied_moves_the_ticket_to_followed_up(client: TestClient, staff: dict[str, Staff]) -> None:
    code, task_id = closed_task(client, staff)
    response = attempt(client, staff["lawyer1"], task_id, outcome="reached", satisfaction="满意", comment="感谢律师")
    assert response.status_code == 201, response.text
    task = response.json()
    assert (task["status"], task["satisfaction"], task["satisfaction_label"]) == ("reached", "satisfied", "满意")
    assert task["comment"] == "感谢律师" and task["completed_at"] is not None
    after = ticket(client, staff["lawyer1"], code)
    assert after["status"] == "followed_up" and after["events"][-1]["action"] == "follow_up"
    again = attempt(client, staff["lawyer1"], task_id, outcome="no_answer")
    assert again.status_code == 409 and again.json()["error"]["id"] == "already_completed"


def test_dissatisfied_reopens_the_ticket_for_review(client: TestClient, staff: dict[str, Staff]) -> None:
    code, task_id = closed_task(client, staff)
    response = attempt(
        client, staff["lawyer1"], task_id, outcome="reached", satisfaction="dissatisfied", comment="问题没解决"
    )
    assert response.status_code == 201
    after = ticket(client, staff["supervisor"], code)
    assert after["status"] == "accepted"
    follow_up, reopen = after["events"][-2:]
    assert (follow_up["action"], follow_up["to_status"]) == ("follow_up", "followed_up")
    assert (reopen["action"], reopen["to_status"], reopen["data"]["automatic"]) == ("reopen", "accepted", True)
    assert reopen["actor_id"] == staff["lawyer1"].user_id and "问题没解决" in reopen["note"]
    triage = client.get("/api/triage", headers=staff["supervisor"].headers).json()["items"]
    assert [(t["code"], t["triage_reason"]) for t in triage] == [(code, "reopened")]
    # Settling it again brings a new call-back task; the first stays on record.
    move(client, staff["lawyer1"], code, to="closed", result="已协调用人单位补发")
    tasks = client.get("/api/callbacks", params={"state": "open"}, headers=staff["lawyer1"].headers).json()["items"]
    assert [t["ticket_code"] for t in tasks] == [code] and tasks[0]["id"] != task_id


def test_failed_attempts_on_one_day_keep_the_task_open(client: TestClient, staff: dict[str, Staff]) -> None:
    code, task_id = closed_task(client, staff)
    for outcome in ("no_answer", "busy", "refused", "wrong_number"):
        assert attempt(client, staff["lawyer1"], task_id, outcome=outcome).status_code == 201
    task = client.get(f"/api/callbacks/{task_id}", headers=staff["lawyer1"].headers).json()
    assert task["status"] == "pending" and len(task["attempts"]) == 4
    assert [a["outcome_label"] for a in task["attempts"]] == ["无人接听", "占线", "拒接", "号码错误"]
    assert ticket(client, staff["lawyer1"], code)["status"] == "closed"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"outcome": "reached"}, 422, "invalid_input"),
        ({"outcome": "busy", "satisfaction": "满意"}, 422, "invalid_input"),
        ({"outcome": "teleported"}, 422, "invalid_request"),
        ({"outcome": "reached", "satisfaction": "very happy"}, 422, "invalid_request"),
        ({"outcome": "no_answer", "linkedid": "'; DROP TABLE calls; --"}, 422, "invalid_request"),
        ({"outcome": "no_answer", "comment": "x" * 2001}, 422, "invalid_request"),
        ({"outcome": "no_answer", "comment": "nul\x00"}, 422, "invalid_request"),
        ({"outcome": "no_answer", "extra": 1}, 422, "invalid_request"),
        # Found by the API fuzzer: a list or an object as satisfaction was a 500 (unhashable label lookup).
        ({"outcome": "reached", "satisfaction": ["满意"]}, 422, "invalid_request"),
        ({"outcome": "reached", "satisfaction": {"a": 1}}, 422, "invalid_request"),
    ],
)
def test_bad_attempts_are_refused_and_nothing_is_recorded(
    client: TestClient, staff: dict[str, Staff], context: Context, body: dict[str, object], status: int, error: str
) -> None:
    _code, task_id = closed_task(client, staff)
    response = attempt(client, staff["lawyer1"], task_id, **body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["id"] == error
    assert client.get(f"/api/callbacks/{task_id}", headers=staff["lawyer1"].headers).json()["attempts"] == []


def test_attempts_keep_the_linkedid_and_find_the_call_when_recorded(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    with context.sessions.begin() as session:
        session.add(Call(linkedid="1732412345.17", direction="callback"))
    _code, task_id = closed_task(client, staff)
    attempt(client, staff["lawyer1"], task_id, outcome="no_answer", linkedid="1732412345.17")
    attempt(client, staff["lawyer1"], task_id, outcome="busy", linkedid="1732499999.3")  # not recorded yet
    attempts = client.get(f"/api/callbacks/{task_id}", headers=staff["lawyer1"].headers).json()["attempts"]
    assert [a["linkedid"] for a in attempts] == ["1732412345.17", "1732499999.3"]
    assert attempts[0]["call_id"] is not None and attempts[1]["call_id"] is None


def test_hostile_comments_are_stored_and_returned_verbatim(client: TestClient, staff: dict[str, Staff]) -> None:
    hostile = "<img src=x onerror=alert(1)>' OR '1'='1 \u0007\u202e 😀 " + "评" * 1900
    _code, task_id = closed_task(client, staff)
    response = attempt(client, staff["lawyer1"], task_id, outcome="reached", satisfaction="基本满意", comment=hostile)
    assert response.status_code == 201
    assert response.json()["comment"] == hostile.strip() and response.json()["attempts"][0]["note"] == hostile.strip()


def test_a_supervisor_reopening_cancels_the_pending_call_back(client: TestClient, staff: dict[str, Staff]) -> None:
    code, task_id = closed_task(client, staff)
    assert move(client, staff["supervisor"], code, to="accepted", reason="结果需补充").status_code == 200
    task = client.get(f"/api/callbacks/{task_id}", headers=staff["lawyer1"].headers).json()
    assert task["status"] == "cancelled"
    refused = attempt(client, staff["lawyer1"], task_id, outcome="no_answer")
    assert refused.status_code == 409


@dataclass
class RecordingDialer:
    """Stands in for the bridge's action client; records each request, or fails as told."""

    fail_with: Exception | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def originate_callback(
        self, *, lawyer_interface: str, number: str, variables: dict[str, str] | None = None, timeout: float = 10.0
    ) -> str:
        self.requests.append({"interface": lawyer_interface, "number": number, "variables": variables})
        if self.fail_with is not None:
            raise self.fail_with
        return "callback-action-0001"


@pytest.fixture
def dialer(client: TestClient, context: Context, staff: dict[str, Staff]) -> RecordingDialer:
    recorder = RecordingDialer()
    client.app.dependency_overrides[get_dialer] = lambda: recorder  # type: ignore[attr-defined]
    with context.sessions.begin() as session:
        session.execute(update(User).where(User.username == "lawyer1").values(interface="PJSIP/1001"))
    return recorder


def dial(client: TestClient, who: Staff, task_id: int):  # type: ignore[no-untyped-def]
    return client.post(f"/api/callbacks/{task_id}/dial", headers=who.headers)


def test_click_to_call_rings_the_lawyers_phone_then_the_citizen(
    client: TestClient, staff: dict[str, Staff], dialer: RecordingDialer
) -> None:
    code, task_id = closed_task(client, staff)
    response = dial(client, staff["lawyer1"], task_id)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "task_id": task_id,
        "ticket_code": code,
        "call_id": "callback-action-0001",
        "interface": "PJSIP/1001",
    }
    assert dialer.requests == [
        {
            "interface": "PJSIP/1001",
            "number": "13808081234",
            "variables": {"HOTLINE_CALLBACK_TASK": str(task_id), "HOTLINE_TICKET": code},
        }
    ]


@pytest.mark.parametrize(
    ("failure", "status", "error"),
    [
        (DialerUnavailable("no bridge is running"), 503, "dialer_unavailable"),
        (DialRefused("Extension does not exist."), 502, "dial_refused"),
        (DialTimedOut("no answer from the bridge in 10 s"), 504, "dial_timeout"),
    ],
)
def test_dial_failures_say_what_happened(
    client: TestClient, staff: dict[str, Staff], dialer: RecordingDialer, failure: Exception, status: int, error: str
) -> None:
    _code, task_id = closed_task(client, staff)
    dialer.fail_with = failure
    response = dial(client, staff["lawyer1"], task_id)
    assert response.status_code == status
    body = response.json()["error"]
    assert body["id"] == error and body["details"]["reason"] == str(failure)
    assert str(failure) in body["message"]


def test_dial_needs_an_open_task_a_phone_and_a_number(
    client: TestClient, staff: dict[str, Staff], dialer: RecordingDialer, context: Context
) -> None:
    _code, task_id = closed_task(client, staff)
    no_phone = dial(client, staff["supervisor"], task_id)  # the supervisor has no interface
    assert no_phone.status_code == 422 and no_phone.json()["error"]["id"] == "not_dialable"
    _code, anonymous = closed_task(client, staff, caller_number=None)
    assert dial(client, staff["lawyer1"], anonymous).status_code == 422
    attempt(client, staff["lawyer1"], task_id, outcome="reached", satisfaction="满意")
    assert dial(client, staff["lawyer1"], task_id).status_code == 409
    assert dial(client, staff["county"], task_id).status_code == 403
    assert dialer.requests == []


def test_without_a_bridge_client_dialling_is_503(
    client: TestClient, staff: dict[str, Staff], context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hotline.bridge_client", None)  # a build without the bridge client
    with context.sessions.begin() as session:
        session.execute(update(User).where(User.username == "lawyer1").values(interface="PJSIP/1001"))
    _code, task_id = closed_task(client, staff)
    response = dial(client, staff["lawyer1"], task_id)
    assert response.status_code == 503
    assert "bridge" in response.json()["error"]["message"]
    with context.sessions() as session:
        assert session.scalar(select(FollowUpTask.status)) == "pending"


def test_call_backs_dial_only_numbers_the_configured_pattern_allows(
    client: TestClient, staff: dict[str, Staff], dialer: RecordingDialer
) -> None:
    for number in ("0096112345678", "+8613808081234", "1900123"):  # international, prefixed, premium-like
        _code, task_id = closed_task(client, staff, caller_number=number)
        refused = dial(client, staff["lawyer1"], task_id)
        assert refused.status_code == 422, number
        assert refused.json()["error"]["id"] == "invalid_input"
    assert dialer.requests == []  # nothing reached the dialler
    _code, task_id = closed_task(client, staff, caller_number="02868001234")
    assert dial(client, staff["lawyer1"], task_id).status_code == 202
    assert [r["number"] for r in dialer.requests] == ["02868001234"]
