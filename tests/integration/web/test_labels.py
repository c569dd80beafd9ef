"""One home for display names: GET /api/labels, used by the pages, and the exports that show them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hotline.bootstrap import Context
from hotline.labels import flag_labels, ivr_step
from tests.conftest import station_id
from tests.integration.conftest import COUNTY, Staff


def test_every_role_reads_the_same_chinese_labels(client: TestClient, staff: dict[str, Staff]) -> None:
    assert client.get("/api/labels").status_code == 401
    bodies = [client.get("/api/labels", headers=staff[who].headers).json() for who in ("lawyer1", "county", "admin")]
    assert bodies[0]["labels"] == bodies[1]["labels"] == bodies[2]["labels"]
    labels = bodies[0]["labels"]
    assert labels["agent_states"]["unavailable"] == "话机未注册" and labels["agent_states"]["off_duty"] == "下线"
    assert labels["ticket_statuses"]["returned"] == "已退回"
    assert labels["flags"] == {
        "green_channel": "绿色通道",
        "crisis": "危机",
        "collective": "群体性",
        "sensitive": "敏感",
    }
    assert labels["queues"]["zonghe"] == "综合咨询" and labels["service_lines"]["legal_aid"] == "法律援助"
    assert labels["audit_views"]["screen_pop"] == "来电弹屏" and labels["reports"]["kpi"] == "接通指标"
    # The IVR's menus and keys from config/ivr.yaml: a key is named by where it leads.
    assert labels["ivr_nodes"]["main"] == "主菜单" and labels["ivr_keys"]["main:8"] == "绿色通道"
    assert labels["ivr_keys"]["consult-topics:1"] == "婚姻家庭"
    assert ivr_step({"node": "language", "key": "1"}, labels) == "语种选择：按1 主菜单"
    assert ivr_step({"node": "main", "key": "8"}, labels) == "主菜单：按8 绿色通道"
    # No label is an English code: every value has a CJK character, or is a pattern of blanks alone
    # (（{who}）: the blanks are filled with names by the page).
    for group, table in labels.items():
        for code, name in table.items():
            words = re.sub(r"\{\w+\}", "", name)
            blanks_only = words != name and not re.search(r"[A-Za-z]", words)
            assert blanks_only or any("\u4e00" <= ch <= "\u9fff" for ch in name), (group, code, name)
    assert bodies[0]["simulated"] is True  # the test context runs in demo mode
    assert bodies[0]["transcription"] == {"available": False, "status": "unavailable"}


def test_flags_are_shown_by_name() -> None:
    assert flag_labels(["collective", "sensitive", "green:elderly"]) == "群体性、敏感、绿色通道·老年人"


def test_exports_show_labels_and_are_named_by_their_filters(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    headers = staff["supervisor"].headers
    kpi = client.get(
        "/api/dashboard/kpi",
        params={"format": "csv", "by_queue": True, "granularity": "all", "start": "2026-12-01", "end": "2026-12-04"},
        headers=headers,
    )
    assert kpi.status_code == 200
    name = kpi.headers["content-disposition"]
    assert 'filename="kpi-2026-12-01-2026-12-04-by-queue.csv"' in name, name
    assert "True" not in name and "all" not in name
    live = client.get("/api/dashboard/live", params={"format": "csv"}, headers=headers)
    assert live.status_code == 200


def test_a_forwarded_ticket_answers_with_its_station_and_who_did_each_step(
    context: Context, client: TestClient, staff: dict[str, Staff]
) -> None:
    with context.sessions() as session:
        county = station_id(session, COUNTY)
    headers = staff["lawyer1"].headers
    created = client.post("/api/tickets", json={"description": "工资被拖欠三个月"}, headers=headers)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    forwarded = client.post(
        f"/api/tickets/{code}/transitions", json={"to": "forwarded", "station_id": county}, headers=headers
    )
    assert forwarded.status_code == 200, forwarded.text
    body = forwarded.json()
    assert body["station_name"] == "乐至县公共法律服务中心"
    assert [e["actor_name"] for e in body["events"]][:2] == ["lawyer1", "lawyer1"]
