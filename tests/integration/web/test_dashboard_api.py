"""Dashboard tables: IVR drop-out points, station backlog, satisfaction, and audited downloads."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from hotline.bootstrap import Context
from storage.tables import DataExport, FollowUpTask, IvrSession, Ticket
from tests.clock import clear_of_local_midnight
from tests.conftest import station_id
from tests.integration.conftest import COUNTY, Staff


def _sessions(context: Context) -> None:
    """IVR sessions started now; the tables are read for today, so not a minute before midnight."""
    clear_of_local_midnight(ZoneInfo(context.settings.timezone))
    now = datetime.now(UTC)
    paths = {
        "queue:family": [[{"node": "main", "key": "2"}]] * 3,
        "hangup": [[{"node": "main"}], [{"node": "main", "key": "1"}, {"node": "topics"}], [{"node": "main"}], []],
        "voicemail": [[{"node": "main", "key": "9"}]],
    }
    with context.sessions.begin() as session:
        n = 0
        for exit_, each in paths.items():
            for path in each:
                n += 1
                session.add(IvrSession(uniqueid=f"1795.{n}", started_at=now, path=path, exit=exit_))
        session.add(
            IvrSession(uniqueid="old.1", started_at=now - timedelta(days=40), path=[{"node": "x"}], exit="hangup")
        )


def test_ivr_drop_outs_by_exit_and_by_the_menu_left(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    _sessions(context)
    body = client.get("/api/dashboard/ivr-dropouts", headers=staff["supervisor"].headers).json()
    assert body["sessions"] == 8 and body["dropped"] == 4
    assert [(e["exit"], e["count"]) for e in body["by_exit"]] == [("hangup", 4), ("queue", 3), ("voicemail", 1)]
    assert [(n["node"], n["count"]) for n in body["dropouts"]] == [("main", 2), (None, 1), ("topics", 1)]
    assert [n["label"] for n in body["dropouts"]][:2] == ["主菜单", "进入菜单前"]
    assert body["by_exit"][0]["label"] == "菜单中挂机"
    for who in ("lawyer1", "county"):
        assert client.get("/api/dashboard/ivr-dropouts", headers=staff[who].headers).status_code == 403


def test_downloads_are_files_and_are_audited(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    _sessions(context)
    headers = staff["supervisor"].headers
    csv = client.get("/api/dashboard/ivr-dropouts", params={"format": "csv"}, headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"] and "菜单中挂机" in csv.content.decode("utf-8-sig")
    xlsx = client.get("/api/dashboard/kpi", params={"format": "xlsx", "by_queue": True}, headers=headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(1, 5).value == "接通率"
    for table in ("backlog", "satisfaction", "overdue", "callback-sla"):
        response = client.get(f"/api/dashboard/{table}", params={"format": "csv"}, headers=headers)
        assert response.status_code == 200, table
    assert client.get("/api/dashboard/backlog", params={"format": "pdf"}, headers=headers).status_code == 422
    with context.sessions() as session:
        reports = sorted(session.scalars(select(DataExport.report)))
    assert reports == ["backlog", "callback-sla", "ivr-dropouts", "kpi", "overdue", "satisfaction"]
    client.get("/api/dashboard/backlog", headers=headers)  # looking at the table is no download
    with context.sessions() as session:
        assert len(session.scalars(select(DataExport)).all()) == 6


def test_backlog_counts_open_work_and_lapsed_deadlines_per_station(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    now = datetime.now(UTC)
    with context.sessions.begin() as session:
        county = station_id(session, COUNTY)
        for i, (status, accept_due, finish_due) in enumerate(
            [
                ("forwarded", now - timedelta(hours=2), now + timedelta(days=3)),
                ("forwarded", now + timedelta(hours=5), now + timedelta(days=3)),
                ("in_progress", now - timedelta(days=3), now - timedelta(hours=1)),
                ("closed", now - timedelta(days=3), now - timedelta(days=1)),
            ]
        ):
            session.add(Ticket(code=f"12348-20261127-{i:06d}", channel="phone", status=status, description="x",
                               station_id=county, accept_due_at=accept_due, finish_due_at=finish_due))  # fmt: skip
    body = client.get("/api/dashboard/backlog", headers=staff["supervisor"].headers).json()
    [row] = body["stations"]
    assert (row["station_id"], row["forwarded"], row["in_progress"], row["total"], row["overdue"]) == (
        county, 2, 1, 3, 2,
    )  # fmt: skip


def test_satisfaction_of_call_backs(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    tz = ZoneInfo(context.settings.timezone)
    clear_of_local_midnight(tz)  # call-backs completed now: the table is read for today
    now = datetime.now(UTC)
    with context.sessions.begin() as session:
        ticket = Ticket(code="12348-20261127-000009", channel="phone", status="followed_up", description="x")
        session.add(ticket)
        for rating in ("satisfied", "satisfied", "fairly_satisfied", "dissatisfied"):
            session.add(FollowUpTask(ticket=ticket, due_date=now.astimezone(tz).date(), status="reached",
                                     satisfaction=rating, completed_at=now))  # fmt: skip
    body = client.get("/api/dashboard/satisfaction", headers=staff["supervisor"].headers).json()
    assert [c["count"] for c in body["callbacks"]] == [2, 1, 1]
    assert body["callbacks_rated"] == 4 and body["satisfaction_rate"] == 0.75


def test_the_live_wallboard_downloads_as_xlsx_and_the_download_is_audited(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    import json

    from hotline.live.publisher import AGENTS_KEY, CALLS_KEY, META_KEY, QUEUES_KEY

    redis = context.redis.client
    redis.hset(META_KEY, mapping={"source": "simulator"})
    redis.hset(QUEUES_KEY, "consult", json.dumps({"queue": "consult", "waiting": 2, "oldest_joined_at": 1.0}))
    redis.hset(AGENTS_KEY, "PJSIP/1001", json.dumps({"interface": "PJSIP/1001", "name": "张律师", "state": "paused",
                                                     "reason": "培训", "queues": {"consult": {}}}))  # fmt: skip
    redis.hset(CALLS_KEY, "1.1", json.dumps({"linkedid": "1.1", "caller_number": "13808081234", "state": "waiting",
                                             "queue": "consult", "started_at": 1795449000.0}))  # fmt: skip
    assert client.get("/api/dashboard/live", headers=staff["lawyer1"].headers).status_code == 403
    response = client.get("/api/dashboard/live", params={"format": "xlsx"}, headers=staff["supervisor"].headers)
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheets = [[[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in book.worksheets]
    flat = [value for sheet in sheets for row in sheet for value in row]
    assert "法律咨询" in flat and "consult" not in flat  # queues by their labels, not codes
    assert "暂停" in flat and "培训" in flat and "13808081234" in flat
    with context.sessions() as session:
        [export] = session.scalars(select(DataExport).where(DataExport.report == "live")).all()
        assert export.format == "xlsx" and export.rows == 3
