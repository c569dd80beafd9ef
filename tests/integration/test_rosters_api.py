"""The roster API: upload with the same validation errors as the CLI, shifts by role, coverage."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.bootstrap import Context
from storage.tables import User
from tests.clock import clear_of_local_midnight
from tests.integration.conftest import Staff
from tests.unit.rosters.helpers import HEADER


@pytest.fixture
def desk(context: Context, staff: dict[str, Staff]) -> dict[str, Staff]:
    """The staff of conftest, with phones for the two lawyers."""
    with context.sessions.begin() as session:
        for username, interface in (("lawyer1", "PJSIP/1001"), ("lawyer2", "PJSIP/1002")):
            session.execute(update(User).where(User.username == username).values(interface=interface))
    return staff


def today(context: Context) -> str:
    """Today, local; the test then asks the service for "today" too, so not a minute before midnight."""
    tz = ZoneInfo(context.settings.timezone)
    clear_of_local_midnight(tz)
    return datetime.now(tz).date().isoformat()


def upload(client: TestClient, who: Staff, text: str | bytes, name: str = "值班表.csv", **params: str):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return client.post("/api/rosters/import", headers=who.headers, params=params, files={"file": (name, data)})


def test_supervisor_imports_and_everyone_sees_what_their_role_allows(
    client: TestClient, context: Context, desk: dict[str, Staff]
) -> None:
    day = today(context)
    roster = (
        HEADER + f"lawyer1,{day},00:00,24:00,法律咨询,\nlawyer2,{day},09:00,12:00,婚姻家庭、劳动争议,普通话、藏语\n"
    )
    dry = upload(client, desk["supervisor"], roster, dry_run="true")
    assert dry.status_code == 200 and dry.json()["imported"] is False
    assert client.get("/api/rosters", headers=desk["supervisor"].headers).json()["shifts"] == []
    response = upload(client, desk["admin"], roster)
    assert response.status_code == 200, response.text
    body = response.json()
    # No bridge runs in this test: the new roster is seated at its next minute's pass instead.
    assert body.pop("membership")["updated_now"] is False
    assert body | {"dates": None} == {
        "file": "值班表.csv",
        "dry_run": False,
        "imported": True,
        "shifts": 2,
        "replaced": 0,
        "dates": None,
        "ignored_columns": [],
        "errors": [],
    }
    everyone = client.get("/api/rosters", params={"date": day}, headers=desk["supervisor"].headers).json()
    assert [(s["lawyer"], s["start"], s["end"], s["queues"]) for s in everyone["shifts"]] == [
        ("lawyer1", "00:00", "24:00", ["consult"]),
        ("lawyer2", "09:00", "12:00", ["family", "labour"]),
    ]
    own = client.get("/api/rosters", headers=desk["lawyer2"].headers).json()
    assert [(s["lawyer"], s["languages"]) for s in own["shifts"]] == [("lawyer2", ["普通话", "藏语"])]
    assert client.get("/api/rosters", headers=desk["county"].headers).status_code == 403
    mine = client.get("/api/rosters/me/today", headers=desk["lawyer1"].headers).json()
    assert mine["on_duty"] is True and mine["current"]["interface"] == "PJSIP/1001" and mine["date"] == day
    assert client.get("/api/rosters/me/today", headers=desk["supervisor"].headers).status_code == 400


def test_invalid_rosters_are_refused_with_every_error(client: TestClient, desk: dict[str, Staff]) -> None:
    bad = HEADER + "lawyer1,2026-12-01,09:00,08:00,法律咨询,\nnobody,2026-12-01,09:00,10:00,法律咨询,=1+2\n"
    response = upload(client, desk["supervisor"], bad.encode("gb18030"), "bad.csv")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["id"] == "invalid_roster" and "3 error(s)" in error["message"]
    assert [(e["file"], e["row"], e["column"]) for e in error["details"]["errors"]] == [
        ("bad.csv", 2, "结束"),
        ("bad.csv", 3, "律师"),
        ("bad.csv", 3, "语言"),
    ]
    assert error["details"]["imported"] is False
    unreadable = upload(client, desk["supervisor"], b"%PDF-1.7", "scan.pdf")
    assert unreadable.status_code == 422
    assert unreadable.json()["error"]["details"] == {
        "file": "scan.pdf",
        "reason": "unsupported file type '.pdf': upload a CSV or XLSX roster",
    }
    assert upload(client, desk["supervisor"], b"", "empty.csv").json()["error"]["id"] == "unreadable_roster"
    too_big = upload(client, desk["supervisor"], b"x" * 1_100_000, "big.csv")
    assert too_big.status_code == 413
    assert upload(client, desk["lawyer1"], HEADER, "mine.csv").status_code == 403


def test_coverage_for_supervisors(client: TestClient, context: Context, desk: dict[str, Staff]) -> None:
    assert upload(client, desk["supervisor"], HEADER + "lawyer1,2025-10-11,09:00,12:00,法律咨询,\n").status_code == 200
    # Saturday 11 October 2025 is a make-up working day: 法律咨询 opens 09:00-12:00 and 13:30-17:30.
    response = client.get(
        "/api/rosters/coverage",
        params={"start": "2025-10-11", "end": "2025-10-11", "queue": "consult"},
        headers=desk["supervisor"].headers,
    )
    assert response.status_code == 200
    [consult] = response.json()["queues"]
    assert (consult["open_minutes"], consult["covered_minutes"], consult["gap_minutes"]) == (420, 180, 240)
    assert consult["gaps"] == [
        {"queue": "consult", "date": "2025-10-11", "start": "13:30", "end": "17:30", "minutes": 240}
    ]
    wrong = client.get(
        "/api/rosters/coverage", params={"start": "2026-12-02", "end": "2026-12-01"}, headers=desk["supervisor"].headers
    )
    assert wrong.status_code == 400 and "before it starts" in wrong.json()["error"]["message"]
    end = (datetime(2026, 1, 1) + timedelta(days=500)).date().isoformat()
    assert (
        client.get(
            "/api/rosters/coverage", params={"start": "2026-01-01", "end": end}, headers=desk["supervisor"].headers
        ).status_code
        == 400
    )
    assert client.get("/api/rosters/coverage", headers=desk["lawyer1"].headers).status_code == 403
