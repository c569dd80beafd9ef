"""Report downloads: hostile cells never become formulas and never break the file."""

from __future__ import annotations

import csv
import io

import openpyxl

from hotline.reports.tables import Table, to_csv, to_xlsx

HOSTILE = [
    '=HYPERLINK("http://evil","点我")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    "'; DROP TABLE tickets; --",
    "bell\x07nul\x00esc\x1b end",
    "长" * 5000,
]


def _tables() -> list[Table]:
    return [
        Table("热点: 2026/11 [1]", ["类别", "问题", "件数"], [["劳动争议", text, i] for i, text in enumerate(HOSTILE)]),
        Table("热点: 2026/11 [1]", ["x"], []),
    ]


def test_xlsx_cells_are_strings_not_formulas_and_read_back_without_control_characters() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsx(_tables())))
    assert len(workbook.sheetnames) == 2 and len(set(workbook.sheetnames)) == 2
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(HOSTILE)
    for row, text in zip(rows, HOSTILE, strict=True):
        assert row[1].data_type == "s"
        assert row[1].value == "".join(c for c in text if c >= " " or c in "\t\n\r")
        assert isinstance(row[2].value, int)
    assert rows[6][1].value == "bellnulesc end"


def test_csv_is_utf8_with_bom_and_formula_cells_are_defused() -> None:
    data = to_csv(_tables())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["热点: 2026/11 [1]"] and rows[1] == ["类别", "问题", "件数"]
    questions = [row[1] for row in rows[2 : 2 + len(HOSTILE)]]
    assert questions[:4] == ["'" + text for text in HOSTILE[:4]]
    assert questions[4:6] == HOSTILE[4:6]
    assert questions[6] == "bellnulesc end"
    assert rows[2 + len(HOSTILE)] == []  # a blank row between tables
