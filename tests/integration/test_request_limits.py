"""Hard limits on input: the body size while it streams, date ranges, categories from categories.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Staff


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), as a client streaming an upload would."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


def test_a_chunked_body_over_the_limit_is_refused_before_sign_in(client: TestClient) -> None:
    response = client.post("/api/auth/login", content=chunks(5_000_000), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["id"] == "payload_too_large"
    assert response.json()["error"]["details"] == {"limit": 1_000_000}


def test_an_anonymous_chunked_multipart_upload_is_refused_for_its_size_not_read(client: TestClient) -> None:
    boundary = b"----hotline"

    def multipart() -> Iterator[bytes]:
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n'
        yield from chunks(3_000_000)
        yield b"\r\n--" + boundary + b"--\r\n"

    response = client.post(
        "/api/rosters/import",
        content=multipart(),
        headers={"content-type": "multipart/form-data; boundary=" + boundary.decode()},
    )
    assert response.status_code == 413
    assert response.json()["error"]["id"] == "payload_too_large"


def test_a_chunked_body_within_the_limit_goes_through(client: TestClient, staff: dict[str, Staff]) -> None:
    body = b'{"description": "chunked but small", "channel": "phone"}'
    response = client.post(
        "/api/tickets",
        content=iter([body[:10], body[10:]]),
        headers={**staff["lawyer1"].headers, "content-type": "application/json"},
    )
    assert response.status_code == 201, response.text


EDGE_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "1733270400", "20261204", "2026-02-30"]
DATED = [
    "/api/kpi?start={day}",
    "/api/calls?end={day}",
    "/api/rosters?date={day}",
    "/api/rosters/coverage?start={day}",
    "/api/statistics/topics?start={day}",
    "/api/statistics/stations?end={day}",
    "/api/callbacks/sla?start={day}",
    "/api/dashboard/kpi?start={day}",
    "/api/dashboard/ivr-dropouts?end={day}",
    "/api/dashboard/satisfaction?start={day}",
    "/api/dashboard/callback-sla?end={day}",
    "/api/tickets?created_from={day}",
]


@pytest.mark.parametrize("day", EDGE_DAYS)
def test_dates_out_of_range_or_not_written_as_days_are_422_everywhere(
    client: TestClient, staff: dict[str, Staff], day: str
) -> None:
    for template in DATED:
        response = client.get(template.format(day=day), headers=staff["supervisor"].headers)
        assert response.status_code == 422, (template, response.status_code, response.text)
        assert response.json()["error"]["id"] == "invalid_request"


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2026-13"])
def test_months_out_of_range_are_422(client: TestClient, staff: dict[str, Staff], month: str) -> None:
    response = client.get(f"/api/statistics/hot-topics?month={month}", headers=staff["supervisor"].headers)
    assert response.status_code == 422


def test_the_edges_of_the_range_are_answered(client: TestClient, staff: dict[str, Staff]) -> None:
    for query in ("start=2000-01-01&end=2000-01-31", "start=2099-12-01&end=2099-12-31"):
        response = client.get(f"/api/kpi?{query}", headers=staff["supervisor"].headers)
        assert response.status_code == 200, response.text


def test_categories_must_exist_and_subcategories_belong_to_them(client: TestClient, staff: dict[str, Staff]) -> None:
    headers = staff["lawyer1"].headers
    base = {"description": "咨询", "channel": "phone"}
    unknown = client.post("/api/tickets", json={**base, "category": "外星人"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["category"] == "外星人"
    assert "劳动争议" in unknown.json()["error"]["details"]["allowed"]
    mismatched = client.post(
        "/api/tickets", json={**base, "category": "劳动争议", "subcategory": "离婚"}, headers=headers
    )
    assert mismatched.status_code == 422
    orphan = client.post("/api/tickets", json={**base, "subcategory": "离婚"}, headers=headers)
    assert orphan.status_code == 422
    listed = client.get("/api/tickets", headers=staff["supervisor"].headers).json()
    assert listed["total"] == 0  # nothing was stored
    good = client.post("/api/tickets", json={**base, "category": "婚姻家庭", "subcategory": "离婚"}, headers=headers)
    assert good.status_code == 201, good.text
