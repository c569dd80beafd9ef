"""config/ivr.yaml: the sample is sound, and each kind of mistake is reported with the file and the
path to the bad node, all in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ivr.menu_checks import load_ivr_config
from ivr.prompts import SYSTEM_PROMPTS
from settings.errors import ConfigError
from settings.files import HotlineConfig, load_config

CONFIG = Path(__file__).resolve().parents[3] / "config"


@pytest.fixture(scope="module")
def hotline() -> HotlineConfig:
    return load_config(CONFIG)


def sample() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((CONFIG / "ivr.yaml").read_text(encoding="utf-8"))


def problems(tmp_path: Path, hotline: HotlineConfig, data: dict | str) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    path = tmp_path / "ivr.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_ivr_config(tmp_path, hotline)
    assert all(source == str(path) for source, _, _ in error.value.problems)
    return error.value.problems


def has(found: list[tuple[str, str, str]], where: str, text: str) -> bool:
    return any(w == where and text in what for _, w, what in found)


def test_sample_menus_are_valid(hotline: HotlineConfig) -> None:
    config = load_ivr_config(CONFIG, hotline)
    assert config.nodes[config.start].type == "play"
    main = config.nodes["main"]
    assert set(main.options) == {"1", "2", "3", "4", "5", "8", "0"} and main.repeat_key == "9"
    assert len(config.nodes["consult-topics"].options) == 8  # seven topics and "back"
    assert all(config.prompt_text(name) for name in SYSTEM_PROMPTS)


def test_unknown_destination_names_the_option(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["main"]["options"]["1"] = "consult-topicz"
    found = problems(tmp_path, hotline, data)
    assert has(found, "nodes.main.options.1", "unknown destination 'consult-topicz'")


def test_loop_without_exit_is_found(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["consult-topics"]["on_exhausted"] = "main"
    data["nodes"]["main"]["on_exhausted"] = "consult-topics"
    found = problems(tmp_path, hotline, data)
    loops = [(where, what) for _, where, what in found if "loop without exit" in what]
    assert len(loops) == 1  # reported once, at the first node of the loop met
    where, what = loops[0]
    assert where in ("nodes.main", "nodes.consult-topics") and "main" in what and "consult-topics" in what


def test_play_nodes_in_a_circle_are_a_loop(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["welcome"]["next"] = "welcome"
    assert has(problems(tmp_path, hotline, data), "nodes.welcome", "welcome → welcome")


def test_missing_prompt_text(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["main"]["prompt"] = "main-menu-v2"
    del data["prompts"]["goodbye"]
    data["prompts"]["invalid"] = "  "
    found = problems(tmp_path, hotline, data)
    assert has(found, "nodes.main.prompt", "prompt 'main-menu-v2' has no text")
    assert has(found, "prompts.goodbye", "prompt 'goodbye' has no text")
    assert has(found, "prompts.invalid", "prompt 'invalid' has no text")


@pytest.mark.parametrize(
    ("hours", "problem"),
    [("14:00-12:00", "ends before it starts"), ("2pm-5pm", "is not a range"), ("09:00-25:00", "is not a range")],
)
def test_bad_time_ranges(tmp_path: Path, hotline: HotlineConfig, hours: str, problem: str) -> None:
    data = sample()
    data["closures"] = [{"date": "2026-12-31", "hours": hours, "reason": "升级"}]
    assert has(problems(tmp_path, hotline, data), "closures[0].hours", problem)


def test_queues_topics_languages_and_groups_must_exist(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["family"]["queue"] = "divorce"
    data["nodes"]["labour"]["topic"] = "讨薪"
    data["nodes"]["language"]["options"]["2"]["language"] = "ug"
    data["nodes"]["green-channel"]["options"]["2"]["green"] = "pensioner"
    data["nodes"]["mediation"]["service_line"] = "mediate"
    found = problems(tmp_path, hotline, data)
    assert has(found, "nodes.family.queue", "unknown queue 'divorce'")
    assert has(found, "nodes.labour.topic", "unknown topic '讨薪'")
    assert has(found, "nodes.language.options.2", "unknown language 'ug'")
    assert has(found, "nodes.green-channel.options.2", "unknown green-channel group 'pensioner'")
    assert has(found, "nodes.mediation.service_line", "unknown service line 'mediate'")


def test_field_mistakes_found_together(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["welcome"]["queue"] = "general"
    data["nodes"]["main"].pop("on_exhausted")
    data["nodes"]["operator"] = {"type": "overflow"}
    data["nodes"]["main"]["repeat_key"] = "1"
    data["start"] = "begin"
    found = problems(tmp_path, hotline, data)
    assert has(found, "nodes.welcome.queue", "does not apply to a play node")
    assert has(found, "nodes.main.on_exhausted", "a menu node needs on_exhausted")
    assert has(found, "nodes.operator.number", "an overflow node needs number")
    assert has(found, "nodes.main.repeat_key", "also an option")
    assert has(found, "start", "unknown node 'begin'")


def test_option_keys_are_phone_keys(tmp_path: Path, hotline: HotlineConfig) -> None:
    data = sample()
    data["nodes"]["main"]["options"]["10"] = "main"
    data["nodes"]["consult-topics"]["options"]["#"] = "main"
    found = problems(tmp_path, hotline, data)
    assert has(found, "nodes.main.options", "option key '10' is not one phone key")
    assert has(found, "nodes.consult-topics.options", "# ends input")


def test_yaml_and_type_errors_have_positions(tmp_path: Path, hotline: HotlineConfig) -> None:
    assert problems(tmp_path, hotline, "nodes: [unclosed\n")[0][1].startswith("line ")
    data = sample()
    data["nodes"]["main"]["timeout_s"] = -1
    data["voicemail"]["format"] = "mp3"
    found = problems(tmp_path, hotline, data)
    assert has(found, "nodes.main.timeout_s", "greater than 0")
    assert has(found, "voicemail.format", "Input should be")
