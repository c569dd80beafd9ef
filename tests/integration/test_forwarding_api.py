"""Forwarding (转办) over HTTP: progress reports, the triage list, the stations' inbox, the 督办 list."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline.bootstrap import Context
from storage.tables import Ticket
from tests.conftest import station_id
from tests.integration.conftest import COUNTY, OTHER_COUNTY, Staff
from tests.integration.test_tickets_api import move, new_ticket
from tests.integration.workflow_support import TOWNSHIP, beijing, forward, person
from tests.integration.workflow_support import new_ticket as ticket_at
from ticketing.domain.roles import Role
from ticketing.escalation import escalate_overdue

HOSTILE = "<script>alert('x')</script>\"; DROP TABLE tickets; --\u202e\u0007 " + "进" * 1900


def received(client: TestClient, staff: dict[str, Staff], session: Session, **fields: object) -> str:
    code = new_ticket(client, staff["lawyer1"], category="劳动争议", **fields)["code"]
    assert (
        move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY)).status_code == 200
    )
    assert move(client, staff["county"], code, to="received").status_code == 200
    return code


def progress(client: TestClient, who: Staff, code: str, note: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/tickets/{code}/progress", json={"note": note}, headers=who.headers)


def test_progress_reports_start_the_work_then_add_to_the_history(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    code = received(client, staff, session)
    first = progress(client, staff["county"], code, "已电话联系当事人")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "in_progress"
    second = progress(client, staff["county"], code, "已约双方下周调解")
    assert second.status_code == 200 and second.json()["status"] == "in_progress"
    done = move(client, staff["county"], code, to="closed", result="调解成功，工资已付清")
    assert done.status_code == 200
    events = [(e["action"], e["to_status"], e["note"]) for e in done.json()["events"]]
    assert events[-3:] == [
        ("start", "in_progress", "已电话联系当事人"),
        ("progress", "in_progress", "已约双方下周调解"),
        ("finish", "closed", None),
    ]


def test_progress_is_refused_before_acceptance_after_closing_and_to_the_desk(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY))
    refused = progress(client, staff["county"], code, "还没接收")
    assert refused.status_code == 409 and refused.json()["error"]["id"] == "invalid_transition"
    assert progress(client, staff["lawyer1"], code, "律师不能报告进展").status_code == 403
    assert progress(client, staff["other"], code, "别的县").status_code == 404
    for bad in ("", "   ", "x" * 2001, "nul\x00", 42, None):
        response = progress(client, staff["county"], code, bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["id"] == "invalid_request"


def test_hostile_progress_notes_and_return_reasons_are_stored_and_returned_verbatim(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    reported, refused = received(client, staff, session), received(client, staff, session)
    response = progress(client, staff["county"], reported, HOSTILE)
    assert response.status_code == 200 and response.json()["events"][-1]["note"] == HOSTILE.strip()
    returned = move(client, staff["county"], refused, to="returned", reason=HOSTILE[:1999])
    assert returned.status_code == 200
    assert returned.json()["events"][-1]["note"] == HOSTILE[:1999].strip()
    triage = client.get("/api/triage", headers=staff["lawyer1"].headers).json()
    assert [item["triage_note"] for item in triage["items"]] == [HOSTILE[:1999].strip()]


def test_triage_lists_returned_reopened_unsure_and_unrouted_tickets_with_the_reason(
    client: TestClient, staff: dict[str, Staff], session: Session, context: Context
) -> None:
    county = station_id(session, COUNTY)
    routed = new_ticket(client, staff["lawyer1"], category="婚姻家庭")["code"]
    unrouted = new_ticket(client, staff["lawyer1"])["code"]
    unsure = new_ticket(client, staff["lawyer1"], category="其他", priority="urgent")["code"]
    with context.sessions.begin() as writing:
        writing.execute(
            update(Ticket).where(Ticket.code == unsure).values(routing={"needs_triage": True, "confidence": 0.31})
        )
    returned = new_ticket(client, staff["lawyer1"], category="劳动争议")["code"]
    move(client, staff["lawyer1"], returned, to="forwarded", station_id=county)
    move(client, staff["county"], returned, to="returned", reason="当事人在成都，不属于本辖区")
    reopened = new_ticket(client, staff["lawyer1"], category="合同纠纷")["code"]
    move(client, staff["lawyer1"], reopened, to="closed", result="已解答")
    move(client, staff["supervisor"], reopened, to="accepted", reason="答复有误，请复核")
    forwarded = new_ticket(client, staff["lawyer1"], category="劳动争议")["code"]
    move(client, staff["lawyer1"], forwarded, to="forwarded", station_id=county)

    response = client.get("/api/triage", headers=staff["supervisor"].headers)
    assert response.status_code == 200
    body = response.json()
    items = {item["code"]: item for item in body["items"]}
    assert set(items) == {unrouted, unsure, returned, reopened} and body["total"] == 4
    assert routed not in items and forwarded not in items
    assert body["items"][0]["code"] == unsure  # urgent first
    assert (items[unsure]["triage_reason"], items[unsure]["confidence"]) == ("needs_triage", 0.31)
    assert items[unrouted]["triage_reason"] == "unrouted" and items[unrouted]["triage_reason_label"] == "未分类"
    assert items[returned]["triage_reason"] == "returned"
    assert items[returned]["triage_note"] == "当事人在成都，不属于本辖区"
    assert items[returned]["returned_by_station_id"] == county
    assert (items[reopened]["triage_reason"], items[reopened]["triage_note"]) == ("reopened", "答复有误，请复核")
    # Lawyers see the triage of tickets they may see; station staff have no triage.
    assert client.get("/api/triage", headers=staff["lawyer2"].headers).json()["total"] == 0
    assert client.get("/api/triage", headers=staff["county"].headers).status_code == 403
    # Forwarding again takes the ticket off the list.
    move(client, staff["lawyer1"], returned, to="forwarded", station_id=county)
    again = client.get("/api/triage", headers=staff["supervisor"].headers).json()
    assert returned not in {item["code"] for item in again["items"]}


def test_inbox_shows_the_stations_open_work_by_nearest_deadline(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    desk = person(context, "desk", Role.SUPERVISOR)
    later = ticket_at(context, desk, beijing(2025, 11, 20, 9), category="医疗纠纷")
    sooner = ticket_at(context, desk, beijing(2025, 11, 21, 9), category="劳动争议")
    elsewhere = ticket_at(context, desk, beijing(2025, 11, 21, 9))
    forward(context, desk, later, COUNTY, beijing(2025, 11, 20, 9))
    forward(context, desk, sooner, TOWNSHIP, beijing(2025, 11, 21, 9))
    forward(context, desk, elsewhere, OTHER_COUNTY, beijing(2025, 11, 21, 9))
    response = client.get("/api/forwarding/inbox", headers=staff["county"].headers)
    assert response.status_code == 200
    items = response.json()["items"]
    # Both are forwarded and unaccepted: the accept deadlines (Nov 21 vs Nov 24 end of day) order them.
    assert [item["code"] for item in items] == [later, sooner]
    assert items[0]["caller_number"] == "138****1234"  # station staff see masked numbers
    assert client.get("/api/forwarding/inbox", headers=staff["other"].headers).json()["total"] == 1
    assert client.get("/api/forwarding/inbox", headers=staff["lawyer1"].headers).status_code == 403


def test_overdue_list_shows_lapses_and_escalations_to_supervisors_and_the_station_above(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    desk = person(context, "desk", Role.SUPERVISOR)
    forwarded_at = beijing(2025, 9, 30, 10)
    late = ticket_at(context, desk, forwarded_at, category="劳动争议")
    forward(context, desk, late, TOWNSHIP, forwarded_at)
    escalate_overdue(context.sessions, beijing(2025, 10, 10) + timedelta(minutes=1))
    response = client.get("/api/supervision/overdue", headers=staff["supervisor"].headers)
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["code"] == late
    # Both deadlines of 2025 have passed by now; only the accept lapse was swept above.
    assert [lapse["kind"] for lapse in item["overdue"]] == ["accept", "finish"]
    assert all(lapse["overdue_hours"] > 0 for lapse in item["overdue"])
    [escalation] = item["escalations"]
    assert (escalation["kind"], escalation["escalated_to"], escalation["levels_up"]) == (
        "accept",
        "乐至县公共法律服务中心",
        1,
    )
    # The county above the township sees it; a station elsewhere and lawyers do not.
    assert client.get("/api/supervision/overdue", headers=staff["county"].headers).json()["total"] == 1
    assert client.get("/api/supervision/overdue", headers=staff["other"].headers).json()["total"] == 0
    assert client.get("/api/supervision/overdue", headers=staff["lawyer1"].headers).status_code == 403
