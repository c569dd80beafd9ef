"""Roster files: the encodings and formats offices produce, and clear errors for everything else."""

from __future__ import annotations

import io
import zipfile

import pytest

from hotline.rosters import reader
from hotline.rosters.model import Formula
from hotline.rosters.reader import RosterFileError, read_roster
from tests.unit.rosters.helpers import HEADER, validate_csv, xlsx_bytes

ROW = "lawyer1,2026-12-01,09:00,12:00,法律咨询、婚姻家庭,普通话\n"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b""), ("utf-16", b"")],
    ids=["utf-8", "utf-8-bom", "gb18030", "utf-16"],
)
def test_csv_encodings_excel_saves_read_the_same(encoding: str, prefix: bytes) -> None:
    table = read_roster(prefix + (HEADER + ROW).encode(encoding), "值班表.csv")
    assert table.headers == ["律师", "日期", "开始", "结束", "队列/技能", "语言"]
    assert table.rows == [(2, ["lawyer1", "2026-12-01", "09:00", "12:00", "法律咨询、婚姻家庭", "普通话"])]


def test_semicolon_and_tab_separated_files_and_leading_blank_rows() -> None:
    semicolon = read_roster(("\n;;\n" + HEADER + ROW).replace(",", ";").encode(), "r.csv")
    assert semicolon.header_row == 3 and semicolon.rows[0][0] == 4 and semicolon.rows[0][1][0] == "lawyer1"
    tab = read_roster((HEADER + ROW).replace(",", "\t").encode(), "r.txt")
    assert tab.rows[0][1][4] == "法律咨询、婚姻家庭"


def test_gb18030_roster_validates_like_utf8() -> None:
    assert validate_csv(HEADER + ROW, encoding="gb18030").shifts == validate_csv(HEADER + ROW).shifts


def broken_files() -> list[tuple[str, bytes, str]]:
    workbook = xlsx_bytes([["律师", "日期"], ["lawyer1", "2026-12-01"]])
    not_a_workbook = io.BytesIO()
    with zipfile.ZipFile(not_a_workbook, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    return [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b" \r\n\r\n", "the file is empty"),
        ("commas.csv", b",,,\r\n,,\r\n", "the file has no rows"),
        ("scan.pdf", b"%PDF-1.7\n...", "unsupported file type '.pdf': upload a CSV or XLSX roster"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an Excel 97–2003 .xls file"),
        ("renamed.xls", (HEADER + ROW).encode(), "an Excel 97–2003 .xls file"),
        ("truncated.xlsx", workbook[: len(workbook) // 2], "damaged or truncated .xlsx file"),
        ("fake.xlsx", b"lawyer,date\n", "not a readable .xlsx file (it is not a zip archive)"),
        ("letter.docx", not_a_workbook.getvalue(), "a zip archive but not an Excel workbook"),
        (
            "cp437.csv",
            b"lawyer,date\nM\x81 ller,2026-12-01\n",
            "neither UTF-8 nor GB18030 text (byte 0x81 at offset 13)",
        ),
        ("cut.csv", (HEADER + ROW).encode()[:-12], "invalid UTF-8 on line 2 (byte offset"),
        ("binary.csv", b"\x00\x01\x02lawyer", "binary data, not text"),
        ("quotes.csv", (HEADER + 'lawyer1,"2026-12-01"x,09:00\n').encode(), "line 2: not valid CSV"),
        ("huge.csv", HEADER.encode() + b"x" * reader.MAX_FILE_BYTES, "a roster may have 1,000,000"),
    ]


@pytest.mark.parametrize(("name", "data", "reason"), broken_files(), ids=[f[0] for f in broken_files()])
def test_broken_files_get_a_clear_error(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(RosterFileError) as caught:
        read_roster(data, f"/uploads/{name}")
    assert caught.value.source == name  # the file's name, never the server's path
    assert reason in caught.value.reason


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    with pytest.raises(RosterFileError, match="more than 3 rows"):
        read_roster((HEADER + ROW * 5).encode(), "r.csv")
    with pytest.raises(RosterFileError, match="more than 3 rows"):
        read_roster(xlsx_bytes([["律师"]] + [["lawyer1"]] * 5), "r.xlsx")


def test_a_workbook_that_unpacks_too_big_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(RosterFileError, match="unpacks to"):
        read_roster(xlsx_bytes([["律师"], ["lawyer1"]]), "bomb.xlsx")


def test_xlsx_reads_the_first_sheet_skipping_empty_rows_and_keeping_formulas_apart() -> None:
    data = xlsx_bytes([[], ["律师", "日期", None, "备注"], [None], ["lawyer1", 20261201, 1.5, "=1+1"]])
    table = read_roster(data, "r.xlsx")
    assert (table.header_row, table.headers) == (2, ["律师", "日期", "", "备注"])
    assert table.rows == [(4, ["lawyer1", "20261201", "1.5", Formula("=1+1")])]
