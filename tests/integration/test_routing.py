"""Routing a ticket: the job stores the decision, fills only what nobody chose, alerts on crisis,
and changes nothing when run again; the preview endpoint and `hotline classify` show decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from hotline.jobs.routing import route_ticket
from storage.tables import Caller, Station, Ticket, TicketEvent
from tests.integration.conftest import Staff
from tests.integration.test_cli import hotline
from ticketing.domain.roles import Role
from ticketing.routing.service import triage_tickets
from ticketing.tickets import NewTicket, create_ticket

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def new_ticket(context: Context, description: str, **fields: object) -> int:
    with context.sessions.begin() as session:
        user = create_user(session, "lawyer9", "correct-horse-12348", Role.LAWYER)
        ticket = create_ticket(session, actor_for(user), NewTicket("phone", description, **fields), context.policy, NOW)
        session.flush()
        return ticket.id


def events(context: Context, ticket_id: int) -> list[str]:
    with context.sessions() as session:
        query = select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        return list(session.scalars(query))


def test_the_job_fills_in_the_ticket_and_alerts_on_crisis(context: Context) -> None:
    ticket_id = new_ticket(
        context, "老板拖欠工资三个月不给，还威胁要打人，我在乐至县童家镇", caller_number="13808080808"
    )
    routing = route_ticket(ticket_id, context)
    assert routing is not None
    with context.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.category == "劳动争议" and ticket.service_line == "consultation"
        assert ticket.priority == "urgent" and ticket.flags == ["crisis"]
        assert ticket.station_id is None  # a suggestion only: not forwarded, not visible to the station
        station = session.scalar(select(Station).where(Station.division_code == "512022103"))
        assert station is not None
        assert ticket.routing is not None and ticket.routing["station"]["id"] == station.id
        assert ticket.routing["station"]["rule"] == "text" and ticket.routing["routed_at"]
        assert "13808080808" not in json.dumps(ticket.routing, ensure_ascii=False)
    assert events(context, ticket_id) == ["create", "route", "alert"]


def test_running_the_job_twice_changes_nothing_the_second_time(context: Context) -> None:
    ticket_id = new_ticket(context, "离婚后男方不给抚养费")
    first = route_ticket(ticket_id, context)
    second = route_ticket(ticket_id, context)
    assert first == second
    assert events(context, ticket_id) == ["create", "route"]
    assert route_ticket(10**9, context) is None


def test_a_lawyers_choice_is_never_overwritten(context: Context) -> None:
    ticket_id = new_ticket(
        context, "公司拖欠工资", category="合同纠纷", subcategory="服务合同", service_line="mediation", priority="high"
    )
    route_ticket(ticket_id, context)
    with context.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.category, ticket.subcategory, ticket.service_line) == ("合同纠纷", "服务合同", "mediation")
        assert ticket.priority == "high"
        assert ticket.routing is not None and ticket.routing["category"] == "劳动争议"


def test_an_unsure_decision_leaves_the_ticket_in_triage(context: Context) -> None:
    ticket_id = new_ticket(context, "喂你好，我想问个事情")
    route_ticket(ticket_id, context)
    with context.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.category is None
        assert ticket.routing is not None and ticket.routing["needs_triage"]
        assert [t.id for t in session.scalars(triage_tickets())] == [ticket_id]


def test_the_callers_record_places_a_ticket_without_a_place(context: Context) -> None:
    with context.sessions.begin() as session:
        session.add(Caller(number="13900000001", division_code="512022110202"))
    ticket_id = new_ticket(context, "借钱不还怎么办", caller_number="13900000001")
    routing = route_ticket(ticket_id, context)
    assert routing is not None
    assert routing["station"]["code"] == "512022110202" and routing["station"]["rule"] == "caller_record"


# -- preview API ------------------------------------------------------------------------------


def test_lawyers_preview_a_decision(client: TestClient, staff: dict[str, Staff], context: Context) -> None:
    with context.sessions.begin() as session:
        session.add(Caller(number="13900000002", division_code="512022101"))
    response = client.post(
        "/api/route",
        json={"text": "工地上二十多个农民工的工资被拖欠了", "caller_number": "13900000002"},
        headers=staff["lawyer1"].headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["category"] == "劳动争议" and body["flags"] == ["collective", "sensitive"]
    assert body["station"]["code"] == "512022101" and body["station"]["rule"] == "caller_record"
    assert body["station"]["id"] is not None and body["caller_number"] == "13900000002"
    with context.sessions() as session:
        assert session.scalar(select(Ticket)) is None  # a preview stores nothing


def test_preview_is_for_the_desk_only_and_checks_its_input(client: TestClient, staff: dict[str, Staff]) -> None:
    body = {"text": "离婚"}
    assert client.post("/api/route", json=body).status_code == 401
    refused = client.post("/api/route", json=body, headers=staff["county"].headers)
    assert refused.status_code == 403 and refused.json()["error"]["id"] == "forbidden"
    for bad in ({"text": ""}, {"text": "x" * 10_001}, {"text": "a\x00b"}, {"text": "离婚", "caller_number": "1; DROP"}):
        response = client.post("/api/route", json=bad, headers=staff["supervisor"].headers)
        assert response.status_code == 422 and response.json()["error"]["id"] == "invalid_request", bad
    hostile = {"text": "<script>alert(1)</script>'; DROP TABLE tickets; --\x07离婚"}
    assert client.post("/api/route", json=hostile, headers=staff["admin"].headers).status_code == 200


# -- command line -----------------------------------------------------------------------------


def test_classify_prints_the_decision_and_why() -> None:
    result = hotline("classify", "我老公家暴，我想离婚，我住在乐至县天池街道")
    assert result.returncode == 0, result.stderr
    assert "婚姻家庭" in result.stdout and "ALERT supervisors" in result.stdout
    assert "天池街道公共法律服务工作站" in result.stdout


def test_classify_jsonl_answers_every_line_in_order_and_reports_bad_ones() -> None:
    lines = [
        json.dumps({"id": "a", "text": "交通事故对方全责保险公司不赔", "caller_number": "13808080808"}),
        "not json",
        json.dumps({"txt": "no text field"}),
        "",
        json.dumps({"id": 4, "text": "借钱不还"}),
        "[1, 2]",
    ]
    result = hotline("classify", "--jsonl", stdin="\n".join(lines) + "\n")
    assert result.returncode == 1  # some lines had errors
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 5, 6]
    assert out[0]["id"] == "a" and out[0]["category"] == "交通事故" and out[0]["station"]["code"] == "510100"
    for key in ("subcategory", "service_line", "confidence", "keywords", "flags", "rule"):
        assert key in out[0]
    assert [o.get("error", {}).get("id") for o in out] == [None, "invalid_json", "missing_text", None, "invalid_line"]
    assert out[3]["id"] == 4 and out[3]["category"] == "债权债务"
    assert "classified 2 of 5 lines (3 with errors)" in result.stderr


def test_classify_needs_text_or_jsonl() -> None:
    result = hotline("classify")
    assert result.returncode == 2 and "either TEXT or --jsonl" in result.stderr
