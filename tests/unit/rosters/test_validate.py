"""Roster rows to shifts: every problem reported with file, row, column and reason."""

from __future__ import annotations

from datetime import date, time

import pytest

from hotline.rosters.reader import read_roster
from hotline.rosters.validate import validate_table
from tests.unit.rosters.helpers import HEADER, LAWYERS, QUEUES, validate_csv, xlsx_bytes


def rendered(text: str, name: str = "roster.csv") -> list[str]:
    return [error.render() for error in validate_csv(text, name).errors]


def test_a_valid_roster_gives_one_shift_per_row() -> None:
    result = validate_csv(
        HEADER
        + "lawyer1,2026-12-01,09:00,12:00,法律咨询、婚姻家庭,普通话、藏语\n"
        + "李律师,2026/12/1,13:30,24:00,legal-aid,\n"
        + "lawyer1,2026年12月2日,22:00,次日08:00,综合咨询 consult,Mandarin\n"
    )
    assert result.errors == []
    first, second, third = result.shifts
    assert (first.lawyer_id, first.interface, first.member_name) == (1, "PJSIP/1001", "张律师")
    assert (first.queues, first.languages) == (("consult", "family"), ("普通话", "藏语"))
    assert (second.day, second.start, second.end, second.ends_next_day) == (
        date(2026, 12, 1),
        time(13, 30),
        time(0),
        True,
    )
    assert second.languages == ("普通话",)  # empty languages default to Mandarin
    assert second.hours_label == "13:30–24:00" and second.minutes == 630
    assert (third.queues, third.languages, third.hours_label) == (
        ("general", "consult"),
        ("普通话",),
        "22:00–次日08:00",
    )
    assert third.minutes == 600
    assert result.dates == [date(2026, 12, 1), date(2026, 12, 2)]


def test_english_headers_and_one_hours_column_are_accepted() -> None:
    result = validate_csv(
        "Lawyer,Date,Hours,Queues/Skills,Languages,Notes\nlawyer2,2026-12-01,09:00-12:00,family,dialect,x\n"
    )
    assert result.errors == []
    assert result.shifts[0].hours_label == "09:00–12:00" and result.shifts[0].languages == ("方言",)
    assert result.ignored_columns == ["Notes"]


def test_every_error_of_every_row_is_reported() -> None:
    errors = rendered(
        HEADER
        + "nobody,2026-12-01,09:00,12:00,法律咨询,\n"  # unknown lawyer
        + "lawyer1,2026-02-30,9:00,12:00,法律咨询,\n"  # not a real date
        + "lawyer1,12/01/2026,09:00,12:00,法律咨询,\n"  # ambiguous date format
        + "lawyer2,2026-12-01,14:00,13:00,法律咨询,\n"  # end before start
        + "lawyer2,2026-12-02,09:00,12:00,离婚纠纷,\n"  # unknown queue
        + "lawyer2,2026-12-03,,,,\n"  # empty cells
        + "lawyer2,2026-12-04,25:00,09:60,法律咨询,\n"  # times out of range
    )
    assert errors == [
        "roster.csv:2:律师: no lawyer 'nobody': write the username or display name of a user with role lawyer",
        "roster.csv:3:日期: '2026-02-30' is not a real date",
        "roster.csv:4:日期: '12/01/2026' is not a date: write 2026-12-01 (or 2026/12/1, 2026年12月1日)",
        "roster.csv:5:结束: '13:00' is before the start 14:00; for a night shift write the end as 次日13:00",
        "roster.csv:6:队列/技能: unknown queue or skill '离婚纠纷'; known: 综合咨询 (general)、法律咨询 (consult)、"
        "法律援助 (legal-aid)、婚姻家庭 (family)、劳动争议 (labour)、藏语服务 (tibetan)",
        "roster.csv:7:开始: empty: this column is required",
        "roster.csv:7:结束: empty: this column is required",
        "roster.csv:7:队列/技能: empty: this column is required",
        "roster.csv:8:开始: '25:00' is not a time of day (00:00–23:59)",
        "roster.csv:8:结束: '09:60' is not a time of day (00:00–23:59)",
    ]


@pytest.mark.parametrize(
    ("lawyer", "reason"),
    [
        ("王律师", "'王律师' is the name of several lawyers (wang1, wang2): write the username"),
        ("gone", "lawyer gone (赵律师) is deactivated"),
        ("孙律师", "lawyer nophone has no phone interface (e.g. PJSIP/1001); an admin sets it on the account"),
    ],
)
def test_lawyers_that_cannot_take_calls_are_refused(lawyer: str, reason: str) -> None:
    assert rendered(HEADER + f"{lawyer},2026-12-01,09:00,12:00,法律咨询,\n") == [f"roster.csv:2:律师: {reason}"]


def test_usernames_match_without_case_and_display_names_exactly() -> None:
    result = validate_csv(
        HEADER + "LAWYER1,2026-12-01,09:00,12:00,法律咨询,\n李律师,2026-12-01,09:00,12:00,法律援助,\n"
    )
    assert [s.lawyer_id for s in result.shifts] == [1, 2]


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("09:00", "09:00", "'09:00': the shift ends when it starts (09:00)"),
        ("22:00", "次日23:00", "'次日23:00': from 22:00 to the next day's 23:00 is over 24 hours"),
        ("09:00", "次日24:00", "'次日24:00': 24:00 already ends the day; write 24:00 or 次日00:00"),
        ("24:00", "12:00", None),
        ("09:00:30", "12:00", "'09:00:30': shifts start and end on whole minutes"),
        ("noon", "12:00", "'noon' is not a time: write HH:MM, e.g. 09:00"),
    ],
)
def test_bad_shift_times(start: str, end: str, reason: str | None) -> None:
    errors = validate_csv(HEADER + f"lawyer1,2026-12-01,{start},{end},法律咨询,\n").errors
    assert len(errors) == 1
    if reason is None:
        assert errors[0].column == "开始" and "not a time of day" in errors[0].reason
    else:
        assert reason in errors[0].reason


@pytest.mark.parametrize("end", ["次日08:00", "翌日08:00", "08:00+1", "08:00(+1)", "next day 08:00"])
def test_night_shift_end_spellings(end: str) -> None:
    result = validate_csv(HEADER + f"lawyer1,2026-12-01,22:00,{end},综合咨询,\n")
    assert result.errors == [] and result.shifts[0].ends_next_day and result.shifts[0].end == time(8)


def test_duplicate_and_overlapping_rows_of_one_lawyer() -> None:
    errors = validate_csv(
        HEADER
        + "lawyer1,2026-12-01,09:00,12:00,法律咨询,\n"
        + "lawyer1,2026-12-01,09:00,12:00,法律咨询,\n"  # duplicate
        + "张律师,2026-12-01,11:00,13:00,婚姻家庭,\n"  # overlaps both (same lawyer by display name)
        + "lawyer1,2026-12-01,12:00,13:00,法律咨询,\n"  # touches row 2: fine... but overlaps row 4
        + "lawyer2,2026-12-01,09:00,12:00,法律咨询,\n"  # another lawyer at the same time: fine
        + "lawyer1,2026-12-01,22:00,次日08:00,综合咨询,\n"
        + "lawyer1,2026-12-02,07:00,09:00,综合咨询,\n"  # overlaps last night's shift
    ).errors
    found = sorted((e.row, e.column, e.reason.split(":")[0]) for e in errors)
    assert found == [
        (3, "开始", "duplicates row 2 (2026-12-01 09"),
        (4, "开始", "overlaps row 2 (2026-12-01 09"),
        (4, "开始", "overlaps row 3 (2026-12-01 09"),
        (5, "开始", "overlaps row 4 (2026-12-01 11"),
        (8, "开始", "overlaps row 7 (2026-12-01 22"),
    ]


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://x","a")', "+1+1", "-2", "@SUM(A1)", " =cmd|' /C calc'!A0"],
)
def test_formula_looking_text_is_refused(cell: str) -> None:
    quoted = cell.replace('"', '""')
    errors = validate_csv(HEADER + f'lawyer1,2026-12-01,09:00,12:00,法律咨询,"{quoted}"\n').errors
    assert [(e.column, e.reason.split(" looks")[0][:14]) for e in errors] == [("语言", "text starting ")]
    assert "spreadsheet formula" in errors[0].reason


def test_markup_control_characters_and_sql_are_plain_errors() -> None:
    errors = validate_csv(
        HEADER
        + "lawyer1,2026-12-01,09:00,12:00,法律咨询,<script>alert(1)</script>\n"
        + '"lawyer1\x07",2026-12-02,09:00,12:00,法律咨询,\n'
        + '"x\'; DROP TABLE duty_shifts; --",2026-12-03,09:00,12:00,法律咨询,\n'
        + "lawyer1,2026-12-04,09:00,12:00,"
        + "法律咨询、" * 60
        + ",\n"
    ).errors
    assert [(e.row, e.column) for e in errors] == [(2, "语言"), (3, "律师"), (4, "律师"), (5, "队列/技能")]
    assert "not a language name" in errors[0].reason
    assert "control characters" in errors[1].reason
    assert errors[2].reason.startswith("no lawyer")
    assert "characters (at most 200)" in errors[3].reason


def test_missing_and_repeated_columns_are_reported_on_the_header_row() -> None:
    errors = validate_csv("律师,Lawyer,日期,开始,备注\nlawyer1,lawyer1,2026-12-01,09:00,x\n").errors
    assert errors[0].render() == "roster.csv:1:Lawyer: same column as '律师': keep one of them"
    assert [(e.row, e.column) for e in errors[1:]] == [(1, "队列/技能"), (1, "结束")]
    assert all(e.reason.startswith("missing column (name it ") for e in errors[1:])


def test_values_beyond_the_header_and_a_roster_without_rows() -> None:
    assert rendered(HEADER + "lawyer1,2026-12-01,09:00,12:00,法律咨询,普通话,surprise\n") == [
        "roster.csv:2:-: 1 value(s) beyond the last named column"
    ]
    assert rendered(HEADER + ",,,,,\n") == ["roster.csv:2:-: the roster has no shifts"]


def test_xlsx_cells_typed_values_and_formulas() -> None:
    from datetime import datetime, timedelta

    data = xlsx_bytes(
        [
            ["律师", "日期", "开始", "结束", "队列/技能", "语言"],
            ["lawyer1", date(2026, 12, 1), time(9, 0), time(12, 0), "法律咨询", "普通话"],
            ["lawyer2", datetime(2026, 12, 1), "13:30", timedelta(days=1), "法律援助", None],
            ["lawyer1", "=TODAY()", time(13, 0), time(17, 0), "=A1", "普通话"],
        ]
    )
    result = validate_table(read_roster(data, "值班表.xlsx"), LAWYERS, QUEUES)
    assert [e.render() for e in result.errors] == [
        "值班表.xlsx:4:日期: formula '=TODAY()': type the value itself, not a formula",
        "值班表.xlsx:4:队列/技能: formula '=A1': type the value itself, not a formula",
    ]
    assert [(s.day, s.hours_label) for s in result.shifts] == [
        (date(2026, 12, 1), "09:00–12:00"),
        (date(2026, 12, 1), "13:30–24:00"),
    ]
