"""Configuration files: the samples load, and every kind of mistake is reported with file, field and problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from settings.env import load_settings
from settings.errors import ConfigError
from settings.files import (
    CategoriesFile,
    ServiceHoursFile,
    StationsFile,
    load_config,
    load_file,
    walk_stations,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_sample_configuration_is_valid_and_realistic() -> None:
    config = load_config(CONFIG)
    stations = walk_stations(config.stations.root)
    county = next(s for s in stations if s.code == "512022")
    assert county.level == "county" and len(county.children) >= 12
    assert all(len(village.code) == 12 for town in county.children for village in town.children)
    assert [c.name for c in config.categories.categories] == [
        "婚姻家庭", "劳动争议", "交通事故", "债权债务", "刑事", "合同纠纷", "房产纠纷", "侵权",
        "公司", "医疗纠纷", "拆迁安置", "行政", "建设工程", "消费", "知识产权", "其他",
    ]  # fmt: skip
    assert {line.name for line in config.categories.service_lines} == {
        "法律咨询", "法律援助", "人民调解", "公证", "司法鉴定", "仲裁", "投诉建议",
    }  # fmt: skip


def problems_for(tmp_path: Path, name: str, text: str, model: type) -> list[tuple[str, str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_file(path, model)
    assert str(path) in str(error.value)  # what the user sees names the file
    return error.value.problems


STATION = "code: '{code}'\nname: {name}\nlevel: {level}\nkind: {kind}\n"


def station(code: str, level: str, name: str = "某站", kind: str = "centre", children: str = "") -> str:
    text = STATION.format(code=code, name=name, level=level, kind=kind)
    return text + (f"children:\n{children}" if children else "")


def indent(text: str, by: str = "  ") -> str:
    lines = text.splitlines()
    return "".join(f"{by}- {line}\n" if i == 0 else f"{by}  {line}\n" for i, line in enumerate(lines))


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("root: [unclosed\n", "line 2, column 1", "not valid YAML"),
        ("", "-", "file is empty"),
        ("root:\n" + "  colour: red\n", "root.code", "Field required"),
        ("root:\n  " + station("510000", "province").replace("\n", "\n  ") + "colour: red\n", "root.colour", "Extra"),
        ("root:\n  " + station("51000", "province").replace("\n", "\n  "), "root.code", "pattern"),
        ("root:\n  " + station("512022101", "province").replace("\n", "\n  "), "root", "a province code has 6 digits"),
        ("root:\n  " + station("512000", "province").replace("\n", "\n  "), "root", "ends in 0000"),
        (
            "root:\n  "
            + station("510000", "province", children=indent(station("520100", "city"))).replace("\n", "\n  "),
            "root",
            "children[0] code 520100 does not start with 51",
        ),
        (
            "root:\n  "
            + station("510000", "province", children=indent(station("510000", "province"))).replace("\n", "\n  "),
            "root",
            "is a province under a province",
        ),
        (
            "root:\n  "
            + station(
                "510000",
                "province",
                children=indent(station("510100", "city")) + indent(station("510100", "city")),
            ).replace("\n", "\n  "),
            "-",
            "division code 510100 appears more than once",
        ),
    ],
)
def test_station_file_problems(tmp_path: Path, text: str, field: str, problem: str) -> None:
    problems = problems_for(tmp_path, "stations.yaml", text, StationsFile)
    assert any(f == field and problem in p for _, f, p in problems), problems


CATEGORIES = "service_lines: [{code: consultation, name: 法律咨询}]\n"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (CATEGORIES + "categories: [{name: 刑事, service_line: nowhere}]\n", "-", "service_line 'nowhere'"),
        (CATEGORIES + "categories: [{name: 刑事}, {name: 刑事}]\n", "-", "categories listed twice: 刑事"),
        (CATEGORIES + "categories: [{name: 刑事, finish_days: 0}]\n", "categories[0].finish_days", "greater than"),
        (CATEGORIES + "categories: []\n", "categories", "at least 1"),
        ("service_lines: [{code: Bad Code, name: x}]\ncategories: [{name: a}]\n", "service_lines[0].code", "pattern"),
    ],
)
def test_category_file_problems(tmp_path: Path, text: str, field: str, problem: str) -> None:
    problems = problems_for(tmp_path, "categories.yaml", text, CategoriesFile)
    assert any(f == field and problem in p for _, f, p in problems), problems


HOURS = "schedules: {day: {days: working_days, hours: ['09:00-17:00']}}\n"
QUEUE = "queues: [{name: consult, label: 法律咨询, schedule: day}]\n"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("schedules: {day: {days: working_days, hours: ['9-17']}}\n" + QUEUE, "schedules.day.hours", "'9-17'"),
        ("schedules: {day: {days: working_days, hours: ['17:00-09:00']}}\n" + QUEUE, "schedules.day.hours", "ends"),
        ("schedules: {day: {days: weekdays, hours: ['09:00-17:00']}}\n" + QUEUE, "schedules.day.days", "Input"),
        (HOURS + "queues: [{name: consult, label: x, schedule: night}]\n", "-", "schedule 'night' is not defined"),
        (HOURS + "queues: [{name: consult, label: x, schedule: day, after_hours: overflow}]\n", "-", "overflow_number"),
        (HOURS + QUEUE + "calendar: {2027: {holidays: [2026-10-01]}}\n", "-", "2026-10-01 is not in 2027"),
        (HOURS + QUEUE + "calendar: {2027: {holidays: [2027-02-30]}}\n", "calendar[2027].holidays[0]", "valid date"),
        (HOURS + QUEUE + "closures: [{start: 2027-01-02, end: 2027-01-01, reason: x}]\n", "closures[0]", "ends"),
    ],
)
def test_service_hours_problems(tmp_path: Path, text: str, field: str, problem: str) -> None:
    problems = problems_for(tmp_path, "service_hours.yaml", text, ServiceHoursFile)
    assert any(f == field and problem in p for _, f, p in problems), problems


def test_all_files_are_checked_before_reporting(tmp_path: Path) -> None:
    shutil.copytree(CONFIG, tmp_path, dirs_exist_ok=True)
    (tmp_path / "categories.yaml").write_text("categories: 3\n", encoding="utf-8")
    (tmp_path / "service_hours.yaml").unlink()
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    files = {Path(source).name for source, _, _ in error.value.problems}
    assert files == {"categories.yaml", "service_hours.yaml"}
    assert "file not found" in str(error.value)


def test_invalid_toml_settings_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "hotline.toml"
    settings_file.write_text("port = [unterminated\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_SETTINGS_FILE", str(settings_file))
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(settings_file) in str(error.value)


def test_toml_settings_are_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "hotline.toml"
    settings_file.write_text('port = 8100\nhost = "127.0.0.2"\n', encoding="utf-8")
    monkeypatch.setenv("HOTLINE_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("HOTLINE_PORT", "8200")
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.2", 8200)


def test_unknown_setting_in_toml_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "hotline.toml"
    settings_file.write_text("prot = 8100\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_SETTINGS_FILE", str(settings_file))
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "prot" in str(error.value)


def test_a_queue_listed_twice_or_named_general_is_refused(tmp_path: Path) -> None:
    shutil.copytree(CONFIG, tmp_path / "config")
    hours = tmp_path / "config" / "service_hours.yaml"
    twice = "  - {name: consult, label: y, schedule: always}\n"
    general = "  - {name: general, label: x, schedule: always}\n"
    hours.write_text(hours.read_text().replace("  - {name: consult,", general + twice + "  - {name: consult,", 1))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config")
    assert "'general' is the settings section" in caught.value.render()
    hours.write_text(hours.read_text().replace(general, ""))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config")
    assert "(consult): queue listed twice" in caught.value.render()
