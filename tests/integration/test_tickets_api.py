"""Tickets over HTTP: lifecycle, audit trail, visibility by role, and refusal of bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.bootstrap import Context
from storage.tables import FollowUpTask, OutboxMessage, Station, Ticket, TicketEvent
from tests.conftest import station_id
from tests.integration.conftest import COUNTY, OTHER_COUNTY, Staff
from ticketing.domain.events import TicketEventRecorded


def new_ticket(client: TestClient, who: Staff, **fields: object) -> dict:
    body = {"description": "老板拖欠三个月工资，怎么办？", "caller_number": "13808081234", **fields}
    response = client.post("/api/tickets", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()


def move(client: TestClient, who: Staff, code: str, **body: object):
    return client.post(f"/api/tickets/{code}/transitions", json=body, headers=who.headers)


def test_lawyer_creates_ticket_with_code_and_audit_event(client: TestClient, staff: dict[str, Staff]) -> None:
    ticket = new_ticket(client, staff["lawyer1"], category="劳动争议")
    assert re.fullmatch(r"12348-\d{8}-\d{6}", ticket["code"])
    assert ticket["status"] == "accepted" and ticket["status_label"] == "已受理"
    assert ticket["assigned_lawyer_id"] == staff["lawyer1"].user_id
    assert [(e["action"], e["from_status"], e["to_status"]) for e in ticket["events"]] == [("create", None, "accepted")]
    assert set(ticket["allowed_next"]) == {"closed", "forwarded"}


def test_full_forwarding_path_to_archive(
    client: TestClient, staff: dict[str, Staff], session: Session, context: Context
) -> None:
    code = new_ticket(client, staff["lawyer1"], category="劳动争议")["code"]
    county = station_id(session, COUNTY)
    steps = [
        (staff["lawyer1"], {"to": "forwarded", "station_id": county}),
        (staff["county"], {"to": "received"}),
        (staff["county"], {"to": "in_progress", "note": "已联系当事人"}),
        (staff["county"], {"to": "closed", "result": "经调解，老板已支付工资"}),
        (staff["lawyer1"], {"to": "followed_up"}),
        (staff["supervisor"], {"to": "archived"}),
    ]
    for who, body in steps:
        response = move(client, who, code, **body)
        assert response.status_code == 200, response.text
    final = response.json()
    assert final["status"] == "archived"
    assert [e["to_status"] for e in final["events"]] == [
        "accepted",
        "forwarded",
        "received",
        "in_progress",
        "closed",
        "followed_up",
        "archived",
    ]
    assert final["events"][1]["data"]["station_id"] == county
    assert final["events"][3]["note"] == "已联系当事人"
    assert final["result"] == "经调解，老板已支付工资"
    assert final["callback_due"] is not None
    # Each change wrote its event and an outbox message in the same transaction.
    events = session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
    assert len(events) == 7
    outbox = session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == TicketEventRecorded.name).order_by(OutboxMessage.id)
    ).all()
    assert [m.args for m in outbox] == [[e.id] for e in events]
    assert session.scalar(select(FollowUpTask.status)) == "pending"


def test_forwarding_sets_deadlines_in_working_days(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    code = new_ticket(client, staff["lawyer1"], category="劳动争议")["code"]
    ticket = move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY)).json()
    assert ticket["accept_due_at"] is not None and ticket["finish_due_at"] is not None
    assert ticket["accept_due_at"] < ticket["finish_due_at"]


def test_invalid_transition_is_409_with_allowed_states(client: TestClient, staff: dict[str, Staff]) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    response = move(client, staff["supervisor"], code, to="archived")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["id"] == "invalid_transition"
    assert sorted(error["details"]["allowed"]) == ["closed", "forwarded"]
    assert "已受理" in error["message"]


def test_transition_missing_input_is_422(client: TestClient, staff: dict[str, Staff]) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    response = move(client, staff["lawyer1"], code, to="forwarded")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["missing"] == ["station_id"]
    response = move(client, staff["lawyer1"], code, to="closed", result="   ")
    assert response.status_code == 422


def test_forward_to_unknown_station_is_refused_and_nothing_changes(client: TestClient, staff: dict[str, Staff]) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    response = move(client, staff["lawyer1"], code, to="forwarded", station_id=999_999)
    assert response.status_code == 422
    assert response.json()["error"]["id"] == "invalid_reference"
    ticket = client.get(f"/api/tickets/{code}", headers=staff["lawyer1"].headers).json()
    assert ticket["status"] == "accepted" and len(ticket["events"]) == 1


def test_station_staff_cannot_forward_and_lawyer_cannot_accept(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    assert (
        move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY)).status_code == 200
    )
    response = move(client, staff["lawyer1"], code, to="received")
    assert response.status_code == 403
    assert response.json()["error"]["id"] == "transition_not_permitted"
    assert client.post("/api/tickets", json={"description": "x"}, headers=staff["county"].headers).status_code == 403


def test_returned_ticket_leaves_station_and_returns_to_triage(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY))
    response = move(client, staff["county"], code, to="returned", reason="不属于本辖区")
    assert response.status_code == 200
    ticket = response.json()
    assert ticket["station_id"] is None and ticket["events"][-1]["note"] == "不属于本辖区"
    # The station no longer sees it; the desk can forward it again.
    assert client.get(f"/api/tickets/{code}", headers=staff["county"].headers).status_code == 404
    assert (
        move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY)).status_code == 200
    )


def test_visibility_by_role(client: TestClient, staff: dict[str, Staff], session: Session) -> None:
    mine = new_ticket(client, staff["lawyer1"])["code"]
    theirs = new_ticket(client, staff["lawyer2"])["code"]
    unassigned = new_ticket(client, staff["supervisor"])["code"]
    township = session.scalar(select(Station.id).where(Station.division_code.like(f"{COUNTY}___")))
    move(client, staff["supervisor"], unassigned, to="forwarded", station_id=township)
    move(client, staff["lawyer2"], theirs, to="forwarded", station_id=station_id(session, OTHER_COUNTY))

    def codes(who: Staff) -> set[str]:
        response = client.get("/api/tickets", headers=who.headers)
        assert response.status_code == 200
        return {t["code"] for t in response.json()["items"]}

    assert codes(staff["supervisor"]) == codes(staff["admin"]) == {mine, theirs, unassigned}
    assert codes(staff["lawyer1"]) == {mine, unassigned}
    assert codes(staff["county"]) == {unassigned}  # forwarded to a township under the county
    assert codes(staff["other"]) == {theirs}
    assert client.get(f"/api/tickets/{theirs}", headers=staff["lawyer1"].headers).status_code == 404
    assert client.get(f"/api/tickets/{theirs}", headers=staff["county"].headers).status_code == 404


def test_station_staff_see_masked_caller_numbers(client: TestClient, staff: dict[str, Staff], session: Session) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    move(client, staff["lawyer1"], code, to="forwarded", station_id=station_id(session, COUNTY))
    assert client.get(f"/api/tickets/{code}", headers=staff["lawyer1"].headers).json()["caller_number"] == "13808081234"
    assert client.get(f"/api/tickets/{code}", headers=staff["county"].headers).json()["caller_number"] == "138****1234"


def test_list_filters_and_paging(client: TestClient, staff: dict[str, Staff]) -> None:
    for i in range(5):
        new_ticket(client, staff["lawyer1"], category="婚姻家庭" if i % 2 else "劳动争议", description=f"问题{i}")
    page = client.get("/api/tickets?page_size=2&page=2", headers=staff["supervisor"].headers).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    family = client.get("/api/tickets", params={"category": "婚姻家庭"}, headers=staff["supervisor"].headers).json()
    assert family["total"] == 2
    found = client.get("/api/tickets", params={"q": "问题3"}, headers=staff["supervisor"].headers).json()
    assert [t["description"] for t in found["items"]] == ["问题3"]
    statuses = client.get(
        "/api/tickets", params=[("status", "accepted"), ("status", "closed")], headers=staff["supervisor"].headers
    ).json()
    assert statuses["total"] == 5


def test_date_filters_take_local_days_like_every_report(
    client: TestClient, staff: dict[str, Staff], session: Session
) -> None:
    code = new_ticket(client, staff["lawyer1"])["code"]
    # 2026-11-24 17:30 UTC is 01:30 on the 25th in Beijing: the ticket belongs to the 25th.
    session.execute(
        update(Ticket).where(Ticket.code == code).values(created_at=datetime(2026, 11, 24, 17, 30, tzinfo=UTC))
    )
    session.commit()

    def codes(day: str) -> list[str]:
        params = {"created_from": day, "created_to": day}
        body = client.get("/api/tickets", params=params, headers=staff["supervisor"].headers).json()
        return [t["code"] for t in body["items"]]

    assert codes("2026-11-25") == [code]
    assert codes("2026-11-24") == []


def test_ticket_assigned_to_a_colleague_stays_visible_to_the_lawyer_who_accepted_it(
    client: TestClient, staff: dict[str, Staff]
) -> None:
    ticket = new_ticket(client, staff["lawyer1"], assigned_lawyer_id=staff["lawyer2"].user_id)
    assert ticket["assigned_lawyer_id"] == staff["lawyer2"].user_id
    assert client.get(f"/api/tickets/{ticket['code']}", headers=staff["lawyer2"].headers).status_code == 200


def test_assigning_to_someone_who_is_not_a_lawyer_is_refused(client: TestClient, staff: dict[str, Staff]) -> None:
    for user_id in (staff["county"].user_id, 999_999):
        response = client.post(
            "/api/tickets",
            json={"description": "x", "assigned_lawyer_id": user_id},
            headers=staff["supervisor"].headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["id"] == "invalid_reference"
