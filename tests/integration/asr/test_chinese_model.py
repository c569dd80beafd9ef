"""With a Chinese model (HOTLINE_ASR_MODEL=…/vosk-model-small-cn-0.22 or vosk-model-cn-0.22) the whole
path runs on Mandarin; skipped otherwise, as no Chinese model can be downloaded where CI runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hotline.asr.model import load_model
from hotline.asr.transcribe import transcribe_file
from tests.asr_support import MANDARIN

MODEL = os.environ.get("HOTLINE_ASR_MODEL", "")
IS_CHINESE = bool(MODEL) and bool(re.search(r"(^|[-_])(cn|zh)([-_]|$)", Path(MODEL).name))


@pytest.mark.skipif(not IS_CHINESE, reason="HOTLINE_ASR_MODEL does not point to a Chinese Vosk model")
def test_mandarin_speech_comes_out_as_clean_chinese() -> None:
    result = transcribe_file(MANDARIN, load_model(MODEL))
    assert re.search(r"[\u4e00-\u9fff]", result.text), result.raw_text
    assert not re.search(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]", result.text)  # spaces between words are gone
    assert " " in result.raw_text  # Vosk's own output is kept as it was
    starts = [w["start"] for w in result.words]
    assert starts == sorted(starts) and all(w["end"] <= result.duration_s + 0.05 for w in result.words)
