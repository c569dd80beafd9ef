"""Topic statistics (实时统计咨询事项) over HTTP: counts by category, station and period, the monthly
hot-topic report as JSON, CSV and XLSX, who may see it, and the audit of who exported it."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.bootstrap import Context
from storage.tables import DataExport
from tests.conftest import station_id
from tests.integration.conftest import COUNTY, OTHER_COUNTY, Staff
from tests.integration.workflow_support import TOWNSHIP, beijing, forward, new_ticket, person
from ticketing.domain.roles import Role

PHONE = "13808081234"
HOSTILE = '=HYPERLINK("http://evil.example","点我")工伤赔偿怎么算\x07'

OCTOBER = [("劳动争议", "农民工讨薪")] * 3 + [("婚姻家庭", "离婚")] * 5 + [("交通事故", None)]
NOVEMBER = (
    [("劳动争议", "农民工讨薪")] * 4
    + [("劳动争议", "工伤")] * 2
    + [("婚姻家庭", "离婚")] * 4
    + [("交通事故", "保险理赔")] * 4
    + [(None, None)]
)


@pytest.fixture
def data(context: Context) -> dict[str, list[str]]:
    desk = person(context, "desk", Role.SUPERVISOR)
    codes: dict[str, list[str]] = {"oct": [], "nov": []}
    for i, (category, sub) in enumerate(OCTOBER):
        codes["oct"].append(new_ticket(context, desk, beijing(2025, 10, 8 + i, 10), category=category, subcategory=sub))
    for i, (category, sub) in enumerate(NOVEMBER):
        description = f"工地老板拖欠工资三个月了，我的电话{PHONE}" if sub == "农民工讨薪" else f"咨询{category}问题{i}"
        if sub == "工伤":
            description = HOSTILE
        at = beijing(2025, 11, 30, 23, 30) if i == 0 else beijing(2025, 11, 3 + i, 10)
        codes["nov"].append(new_ticket(context, desk, at, category=category, subcategory=sub, description=description))
    # Forwarding: two to the township, one to the county, one elsewhere.
    for code, station in zip(codes["nov"][:4], [TOWNSHIP, TOWNSHIP, COUNTY, OTHER_COUNTY], strict=True):
        forward(context, desk, code, station, beijing(2025, 11, 28, 9))
    new_ticket(context, desk, beijing(2025, 12, 1, 0, 10), category="刑事")  # just after November, locally
    return codes


def get(client: TestClient, who: Staff, path: str, **params: object):  # type: ignore[no-untyped-def]
    return client.get(f"/api/statistics/{path}", params=params, headers=who.headers)


def test_counts_by_category_and_week(client: TestClient, staff: dict[str, Staff], data: dict[str, list[str]]) -> None:
    response = get(client, staff["supervisor"], "topics", start="2025-11-01", end="2025-11-30", granularity="week")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(NOVEMBER)
    assert [(c["category"], c["count"]) for c in body["categories"]] == [
        ("劳动争议", 6),
        ("婚姻家庭", 4),
        ("交通事故", 4),
        ("未分类", 1),
    ]
    assert body["categories"][0]["subcategories"] == [{"name": "农民工讨薪", "count": 4}, {"name": "工伤", "count": 2}]
    assert all(s["bucket"].startswith("2025-W") for s in body["series"])
    assert sum(s["total"] for s in body["series"]) == len(NOVEMBER)
    assert "2025-W48" in {s["bucket"] for s in body["series"]}  # Sun Nov 30, 23:30 in Beijing


def test_counts_by_month_and_for_one_station_subtree(
    client: TestClient, staff: dict[str, Staff], data: dict[str, list[str]], context: Context
) -> None:
    monthly = get(client, staff["admin"], "topics", start="2025-10-01", end="2025-12-31", granularity="month").json()
    assert [(s["bucket"], s["total"]) for s in monthly["series"]] == [
        ("2025-10", len(OCTOBER)),
        ("2025-11", len(NOVEMBER)),
        ("2025-12", 1),
    ]
    with context.sessions() as session:
        county = station_id(session, COUNTY)
    scoped = get(client, staff["admin"], "topics", start="2025-11-01", end="2025-11-30", station_id=county).json()
    assert scoped["total"] == 3  # two at the township below, one at the county itself
    one = get(client, staff["admin"], "topics", start="2025-10-01", end="2025-11-30", category="婚姻家庭").json()
    assert one["total"] == 9 and [c["category"] for c in one["categories"]] == ["婚姻家庭"]


def test_station_counts_roll_up_the_subtree(
    client: TestClient, staff: dict[str, Staff], data: dict[str, list[str]], context: Context
) -> None:
    body = get(client, staff["supervisor"], "stations", start="2025-11-01", end="2025-11-30").json()
    rows = {row["name"]: row for row in body["stations"]}
    assert (rows["石佛镇公共法律服务工作站"]["own"], rows["石佛镇公共法律服务工作站"]["total"]) == (2, 2)
    assert (rows["乐至县公共法律服务中心"]["own"], rows["乐至县公共法律服务中心"]["total"]) == (1, 3)
    assert rows["资阳市公共法律服务中心"]["total"] == 3
    assert rows["四川省公共法律服务中心"]["total"] == 4
    assert body["not_forwarded"] == len(NOVEMBER) - 4


def test_monthly_hot_topics_with_rising_ones_and_typical_questions_without_numbers(
    client: TestClient, staff: dict[str, Staff], data: dict[str, list[str]]
) -> None:
    response = get(client, staff["supervisor"], "hot-topics", month="2025-11", limit=3)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="hot-topics-2025-11-3.json"'
    report = response.json()
    assert (report["month"], report["total"], report["previous_total"], report["unclassified"]) == (
        "2025-11",
        len(NOVEMBER),
        len(OCTOBER),
        1,
    )
    assert [(t["category"], t["count"], t["previous"]) for t in report["top"]] == [
        ("劳动争议", 6, 3),
        ("交通事故", 4, 1),
        ("婚姻家庭", 4, 5),
    ]
    assert [(t["category"], t["increase"], t["growth"]) for t in report["rising"]] == [
        ("交通事故", 3, 3.0),
        ("劳动争议", 3, 1.0),
    ]
    labour = report["typical"]["劳动争议"]
    assert len(labour) == 2 and any("拖欠工资" in q for q in labour)
    assert PHONE not in response.text and "[号码]" in labour[0] + labour[1]


def test_downloads_as_csv_and_xlsx_are_safe_and_audited(
    client: TestClient, staff: dict[str, Staff], data: dict[str, list[str]], context: Context
) -> None:
    as_csv = get(client, staff["supervisor"], "hot-topics", month="2025-11", format="csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0] == ["热点 2025-11"] and rows[2][:3] == ["1", "劳动争议", "6"]
    typical = [row for row in rows if len(row) == 2 and row[0] == "劳动争议"]
    assert any(row[1].startswith("'=HYPERLINK") for row in typical)  # defused formula

    as_xlsx = get(client, staff["admin"], "hot-topics", month="2025-11", format="xlsx")
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))
    assert workbook.sheetnames == ["热点 2025-11", "上升 rising", "典型问题 typical questions"]
    cells = [row for row in workbook["典型问题 typical questions"].iter_rows(min_row=2) if row[0].value == "劳动争议"]
    hostile = [row[1] for row in cells if str(row[1].value).startswith("=")]
    assert hostile and all(cell.data_type == "s" for cell in hostile)
    assert all("\x07" not in str(row[1].value) and PHONE not in str(row[1].value) for row in cells)

    counts = get(client, staff["supervisor"], "topics", start="2025-11-01", end="2025-11-30", format="xlsx")
    assert counts.status_code == 200
    get(client, staff["supervisor"], "topics", start="2025-11-01", end="2025-11-30")  # a view, not an export

    log = get(client, staff["admin"], "exports").json()
    assert [(e["username"], e["report"], e["format"]) for e in log] == [
        ("supervisor", "topics", "xlsx"),
        ("admin", "hot-topics", "xlsx"),
        ("supervisor", "hot-topics", "csv"),
    ]
    assert log[0]["params"]["start"] == "2025-11-01" and log[0]["rows"] > 0
    with context.sessions() as session:
        assert len(session.scalars(select(DataExport)).all()) == 3


@pytest.mark.parametrize("path", ["topics", "stations", "hot-topics?month=2025-11", "exports"])
def test_statistics_are_for_supervisors_and_admins_only(client: TestClient, staff: dict[str, Staff], path: str) -> None:
    for who in ("lawyer1", "county"):
        response = client.get(f"/api/statistics/{path}", headers=staff[who].headers)
        assert response.status_code == 403
        assert response.json()["error"]["id"] == "forbidden"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("hot-topics", {"month": "2025-13"}, 422),
        ("hot-topics", {"month": "november"}, 422),
        ("hot-topics", {}, 422),
        ("hot-topics", {"month": "2025-11", "format": "pdf"}, 422),
        ("topics", {"start": "2025-11-30", "end": "2025-11-01"}, 400),
        ("topics", {"start": "2020-01-01", "end": "2025-11-01"}, 400),
        ("topics", {"granularity": "fortnight"}, 422),
        ("topics", {"station_id": "'; DROP TABLE stations; --"}, 422),
        ("stations", {"category": "长" * 33}, 422),
    ],
)
def test_bad_parameters_are_refused_and_nothing_is_audited(
    client: TestClient, staff: dict[str, Staff], context: Context, path: str, params: dict[str, str], status: int
) -> None:
    response = get(client, staff["supervisor"], path, **params)
    assert response.status_code == status, response.text
    with context.sessions() as session:
        assert session.scalars(select(DataExport)).all() == []
