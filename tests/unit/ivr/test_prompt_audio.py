"""Prompt files: which are missing, and placeholder audio made from the text with espeak-ng and sox
in the format Asterisk plays without transcoding (8 kHz, mono, 16-bit WAV)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from ivr.menu_checks import load_ivr_config
from ivr.menu_config import IvrFile
from ivr.prompt_audio import missing_tools, synthesize
from ivr.prompts import PromptFiles, missing_prompt_files, referenced_prompts
from settings.files import load_config

CONFIG = Path(__file__).resolve().parents[3] / "config"


def prompt_files(tmp_path: Path) -> tuple[IvrFile, PromptFiles]:
    config = load_ivr_config(CONFIG, load_config(CONFIG))
    return config, PromptFiles(tmp_path, "/srv/sounds", config.default_language)


def test_missing_files_are_listed_until_each_exists(tmp_path: Path) -> None:
    config, files = prompt_files(tmp_path)
    names = {name for _, name in referenced_prompts(config)}
    missing = missing_prompt_files(config, files)
    assert {name for name, _, _ in missing} == names and {lang for _, lang, _ in missing} == {"zh"}
    for _, _, path in missing[1:]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    assert [name for name, _, _ in missing_prompt_files(config, files)] == [missing[0][0]]


def test_sounds_are_given_to_asterisk_without_extension_with_language_fallback(tmp_path: Path) -> None:
    _, files = prompt_files(tmp_path)
    assert files.sound("welcome", "zh") == "/srv/sounds/zh/welcome"
    assert files.sound("welcome", "bo") == "/srv/sounds/zh/welcome"  # no Tibetan recording yet
    (tmp_path / "bo").mkdir()
    (tmp_path / "bo" / "welcome.wav").touch()
    assert files.sound("welcome", "bo") == "/srv/sounds/bo/welcome"


@pytest.mark.skipif(bool(missing_tools()), reason="espeak-ng and sox are needed (apt-get install espeak-ng sox)")
def test_placeholder_audio_is_8khz_mono_16bit(tmp_path: Path) -> None:
    target = tmp_path / "zh" / "welcome.wav"
    synthesize("您好，欢迎致电一二三四八公共法律服务热线。", target, "cmn-latn-pinyin")
    with wave.open(str(target)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() / 8000 > 1.5  # really spoken, not an empty file
