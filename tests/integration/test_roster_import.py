"""Importing rosters into the real database: all or nothing, and re-importing replaces the dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts import create_user
from hotline.bootstrap import Context
from hotline.rosters.reader import RosterFileError
from hotline.rosters.service import ImportResult, import_roster, shifts_on
from storage.tables import DutyShift
from tests.conftest import REPO
from tests.unit.rosters.helpers import HEADER, xlsx_bytes
from ticketing.domain.roles import Role

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def lawyers(context: Context) -> None:
    with context.sessions.begin() as session:
        create_user(session, "lawyer1", "pw-lawyer-12348", Role.LAWYER, "张律师", interface="PJSIP/1001")
        create_user(session, "lawyer2", "pw-lawyer-12348", Role.LAWYER, "李律师", interface="PJSIP/1002")


def run_import(context: Context, text: str | bytes, name: str = "roster.csv", dry_run: bool = False) -> ImportResult:
    data = text.encode() if isinstance(text, str) else text
    with context.sessions.begin() as session:
        return import_roster(session, data, name, context.config.service_hours, "supervisor", NOW, dry_run)


def stored(session: Session) -> list[tuple[str, str, str, str, list[str]]]:
    rows = session.scalars(select(DutyShift).order_by(DutyShift.day, DutyShift.starts_at, DutyShift.user_id))
    return [(r.day.isoformat(), f"{r.starts_at:%H:%M}", f"{r.ends_at:%H:%M}", r.user.username, r.queues) for r in rows]


WEEK = (
    HEADER
    + "lawyer1,2026-12-01,09:00,12:00,法律咨询、婚姻家庭,普通话\n"
    + "李律师,2026-12-01,13:30,17:30,劳动争议,普通话、方言\n"
    + "lawyer2,2026-12-02,22:00,次日08:00,综合咨询,\n"
)


def test_sample_roster_imports_and_a_second_import_changes_nothing(context: Context, lawyers: None) -> None:
    sample = (REPO / "config" / "roster.sample.csv").read_bytes()
    first = run_import(context, sample, "roster.sample.csv")
    assert first.ok and (first.shifts, first.replaced, len(first.dates)) == (19, 0, 7)
    with context.sessions() as session:
        before = stored(session)
    again = run_import(context, sample, "roster.sample.csv")
    assert again.ok and (again.shifts, again.replaced) == (19, 19)
    with context.sessions() as session:
        assert stored(session) == before


def test_a_file_replaces_only_the_dates_it_covers(context: Context, lawyers: None) -> None:
    assert run_import(context, WEEK).ok
    result = run_import(context, HEADER + "lawyer2,2026-12-01,08:00,09:00,法律援助,\n", "fix.csv")
    assert result.ok and (result.replaced, result.dates) == (2, [date(2026, 12, 1)])
    with context.sessions() as session:
        assert stored(session) == [
            ("2026-12-01", "08:00", "09:00", "lawyer2", ["legal-aid"]),
            ("2026-12-02", "22:00", "08:00", "lawyer2", ["zonghe"]),
        ]
        row = session.scalars(select(DutyShift).where(DutyShift.day == date(2026, 12, 1))).one()
        assert (row.source_file, row.source_row, row.imported_by, row.imported_at) == ("fix.csv", 2, "supervisor", NOW)
        assert row.languages == ["普通话"] and row.ends_next_day is False


def test_one_bad_row_imports_nothing_and_keeps_the_old_roster(context: Context, lawyers: None) -> None:
    assert run_import(context, WEEK).ok
    bad = HEADER + "lawyer1,2026-12-01,09:00,10:00,法律咨询,\nlawyer1,2026-12-02,09:00,10:00,没有这个队列,\n"
    result = run_import(context, bad, "bad.csv")
    [error] = [e.render() for e in result.errors]
    assert error.startswith("bad.csv:3:队列/技能: unknown queue or skill '没有这个队列'; known: 综合咨询 (zonghe)、")
    assert "劳动争议/讨薪 (labour)" in error and error.endswith("藏语服务 (tibetan)")
    assert result.summary() == "bad.csv: 1 error(s); nothing imported"
    with context.sessions() as session:
        assert len(stored(session)) == 3


def test_a_failure_while_writing_rolls_back_the_deletes(
    context: Context, lawyers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_import(context, WEEK).ok

    with pytest.raises(ConnectionError), context.sessions.begin() as session:
        real_execute = session.execute

        def insert_fails(statement: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(statement, "is_insert", False):
                assert stored(session) == []  # the old shifts of those dates are deleted by now...
                raise ConnectionError("database went away")
            return real_execute(statement, *args, **kwargs)

        monkeypatch.setattr(session, "execute", insert_fails)
        import_roster(session, WEEK.encode(), "again.csv", context.config.service_hours, "x", NOW)
    with context.sessions() as session:  # ...and back after the rollback
        assert [r[0] for r in stored(session)] == ["2026-12-01", "2026-12-01", "2026-12-02"]


def test_dry_run_writes_nothing(context: Context, lawyers: None) -> None:
    result = run_import(context, WEEK, dry_run=True)
    assert result.ok and result.shifts == 3 and result.summary().startswith("roster.csv: would import 3 shift(s)")
    with context.sessions() as session:
        assert stored(session) == []


def test_overlap_with_a_kept_night_shift_on_the_day_before(context: Context, lawyers: None) -> None:
    assert run_import(context, WEEK).ok  # lawyer2 works 2 December 22:00 – 3 December 08:00
    result = run_import(context, HEADER + "lawyer2,2026-12-03,07:00,12:00,法律咨询,\n", "next.csv")
    assert [e.render() for e in result.errors] == [
        "next.csv:2:开始: overlaps lawyer2's shift 2026-12-02 22:00–次日08:00 already in the roster (that day is not"
        " in this file; import it with this one or change the times)"
    ]
    assert run_import(context, HEADER + "lawyer2,2026-12-03,08:00,12:00,法律咨询,\n").ok  # touching is fine


def test_xlsx_roster_and_unreadable_files(context: Context, lawyers: None) -> None:
    data = xlsx_bytes(
        [["律师", "日期", "开始", "结束", "队列/技能"], ["lawyer1", date(2026, 12, 5), time(9), time(17), "综合咨询"]]
    )
    assert run_import(context, data, "值班表.xlsx").ok
    with context.sessions() as session:
        [only] = shifts_on(session, date(2026, 12, 5))
        assert (only.username, only.hours_label, only.queues) == ("lawyer1", "09:00–17:00", ("zonghe",))
    with pytest.raises(RosterFileError, match="damaged or truncated"):
        run_import(context, data[:500], "值班表.xlsx")


def test_the_night_shift_of_the_day_before_shows_on_the_next_day(context: Context, lawyers: None) -> None:
    assert run_import(context, WEEK).ok
    with context.sessions() as session:
        labels = [s.label for s in shifts_on(session, date(2026, 12, 3))]
        assert labels == ["2026-12-02 22:00–次日08:00"]
        assert shifts_on(session, date(2026, 12, 4)) == []


def test_sample_file_is_where_the_docs_say(context: Context) -> None:
    assert Path(REPO / "config" / "roster.sample.csv").read_text(encoding="utf-8").startswith("律师,日期,开始,结束")
