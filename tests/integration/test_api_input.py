"""Malformed requests get a 4xx JSON error with a stable id — never a 500, never a partial write."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.tables import Ticket
from tests.integration.conftest import Staff


def error_id(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"} and {"id", "message", "details"} <= set(body["error"])
    return body["error"]["id"]


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"[1, 2", b'{"description": "x",}', b"\xff\xfe\x00garbage", b""],
)
def test_malformed_json_is_422(client: TestClient, staff: dict[str, Staff], raw: bytes) -> None:
    headers = {**staff["lawyer1"].headers, "content-type": "application/json"}
    response = client.post("/api/tickets", content=raw, headers=headers)
    assert response.status_code == 422
    assert error_id(response) == "invalid_request"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": 42}, "body.description"),
        ({"description": ["a"]}, "body.description"),
        ({"description": ""}, "body.description"),
        ({"description": "   "}, "body.description"),
        ({"description": "x" * 10_001}, "body.description"),
        ({"description": "ok", "caller_number": "call me maybe"}, "body.caller_number"),
        ({"description": "ok", "caller_name": "名" * 65}, "body.caller_name"),
        ({"description": "ok", "channel": "fax"}, "body.channel"),
        ({"description": "ok", "priority": "whenever"}, "body.priority"),
        ({"description": "ok", "flags": ["<script>"]}, "body.flags.0"),
        ({"description": "ok", "flags": ["crisis"] * 17}, "body.flags"),
        ({"description": "ok", "assigned_lawyer_id": 2**63}, "body.assigned_lawyer_id"),
        ({"description": "ok", "assigned_lawyer_id": "seven"}, "body.assigned_lawyer_id"),
        ({"description": "nul\x00byte"}, "body.description"),
        ({"description": "ok", "unknown_field": 1}, "body.unknown_field"),
        ({"description": "ok", "call_linkedids": ["'; DROP TABLE calls; --"]}, "body.call_linkedids.0"),
    ],
)
def test_invalid_ticket_fields_are_422_naming_the_field(
    client: TestClient, staff: dict[str, Staff], session: Session, body: dict, field: str
) -> None:
    response = client.post("/api/tickets", json=body, headers=staff["lawyer1"].headers)
    assert response.status_code == 422, response.text
    assert error_id(response) == "invalid_request"
    assert field in [p["field"] for p in response.json()["error"]["details"]["problems"]]
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_hostile_text_is_stored_verbatim(client: TestClient, staff: dict[str, Staff]) -> None:
    hostile = "<script>alert(1)</script>' OR 1=1; DROP TABLE tickets; -- \u202e\u0007 😀 " + "长" * 3000
    response = client.post("/api/tickets", json={"description": hostile}, headers=staff["lawyer1"].headers)
    assert response.status_code == 201
    code = response.json()["code"]
    assert client.get(f"/api/tickets/{code}", headers=staff["lawyer1"].headers).json()["description"] == hostile.strip()


def test_unknown_call_reference_is_refused(client: TestClient, staff: dict[str, Staff], session: Session) -> None:
    response = client.post(
        "/api/tickets", json={"description": "ok", "call_linkedids": ["1795449000.1"]}, headers=staff["lawyer1"].headers
    )
    assert response.status_code == 422
    assert error_id(response) == "invalid_reference"
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/tickets/12348-20261124-999999",
        "/api/tickets/not-a-code",
        "/api/tickets/12348-20261124-000001%00",
        "/api/nothing-here",
    ],
)
def test_unknown_or_malformed_ids_are_4xx(client: TestClient, staff: dict[str, Staff], path: str) -> None:
    response = client.get(path, headers=staff["supervisor"].headers)
    assert response.status_code in (404, 422)
    error_id(response)


@pytest.mark.parametrize(
    "body",
    [{"to": "teleported"}, {"to": "forwarded", "station_id": -1}, {"to": "forwarded", "station_id": "x"}, {}, []],
)
def test_malformed_transition_is_422(client: TestClient, staff: dict[str, Staff], body: object) -> None:
    code = client.post("/api/tickets", json={"description": "ok"}, headers=staff["lawyer1"].headers).json()["code"]
    response = client.post(f"/api/tickets/{code}/transitions", json=body, headers=staff["lawyer1"].headers)
    assert response.status_code == 422
    assert error_id(response) == "invalid_request"


@pytest.mark.parametrize(
    "query",
    ["page=0", "page_size=1000", "status=nonsense", "station_id=abc", "created_from=yesterday", "q=" + "x" * 101],
)
def test_bad_list_parameters_are_422(client: TestClient, staff: dict[str, Staff], query: str) -> None:
    response = client.get(f"/api/tickets?{query}", headers=staff["supervisor"].headers)
    assert response.status_code == 422
    assert error_id(response) == "invalid_request"


def test_oversized_body_is_413(client: TestClient, staff: dict[str, Staff]) -> None:
    response = client.post(
        "/api/tickets",
        content=b'{"description": "' + b"x" * 1_100_000 + b'"}',
        headers={**staff["lawyer1"].headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert error_id(response) == "payload_too_large"


def test_wrong_method_is_405_json(client: TestClient, staff: dict[str, Staff]) -> None:
    response = client.delete("/api/tickets", headers=staff["supervisor"].headers)
    assert response.status_code == 405
    assert error_id(response) == "method_not_allowed"
