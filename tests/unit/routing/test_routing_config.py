"""config/routing.yaml: mistakes are reported with file, field and problem, like the other files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from settings.errors import ConfigError
from settings.files import load_config
from tests.conftest import REPO


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config"


def problems(config_dir: Path, old: str, new: str) -> list[tuple[str, str, str]]:
    path = config_dir / "routing.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(config_dir)
    assert all(p[0] == str(path) for p in error.value.problems)
    return error.value.problems


def test_the_sample_rules_load(config_dir: Path) -> None:
    routing = load_config(config_dir).routing
    assert routing.places.default_station == "510000"
    assert "劳动争议" in routing.categories and "自杀" in routing.flags.crisis


def test_an_unknown_category_is_named_with_its_path(config_dir: Path) -> None:
    [(_, field, problem)] = problems(config_dir, "\n  劳动争议:\n", "\n  劳动纠纷:\n")
    assert field == "categories.劳动纠纷" and "not a category of categories.yaml" in problem


def test_a_subcategory_of_another_category_is_refused(config_dir: Path) -> None:
    [(_, field, problem)] = problems(config_dir, "      工伤: {", "      继承: {")
    assert field == "categories.劳动争议.subcategories.继承" and "not a subcategory of 劳动争议" in problem


def test_unknown_service_line_and_default_station_are_refused(config_dir: Path) -> None:
    problems(config_dir, "  notary: {", "  notarial: {")  # one problem at a time is checked below
    found = problems(config_dir, 'default_station: "510000"', 'default_station: "510999"')
    fields = {p[1] for p in found}
    assert fields == {"service_lines.notarial", "places.default_station"}


def test_bad_weights_and_phrases_are_refused(config_dir: Path) -> None:
    found = problems(config_dir, "legal_aid: {法律援助: 3,", "legal_aid: {法律援助: 30, 'a  b': 1,")
    assert {p[1] for p in found} == {"service_lines.legal_aid.法律援助", "service_lines.legal_aid.a  b.[key]"}


def test_a_variant_standing_for_two_words_is_refused(config_dir: Path) -> None:
    [(_, field, problem)] = problems(config_dir, "  交通事故: [车祸]", "  交通事故: [车祸, 老公]")
    assert field == "synonyms" and "老公 stands for both" in problem


def test_flags_need_crisis_words(config_dir: Path) -> None:
    found = problems(config_dir, "  crisis: [", "  crisis_words: [")
    assert {(p[1], p[2]) for p in found} == {
        ("flags.crisis", "Field required"),
        ("flags.crisis_words", "Extra inputs are not permitted"),
    }
