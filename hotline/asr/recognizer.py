"""A thin wrapper over vosk.KaldiRecognizer: feed 16-bit samples, get utterances with timed words."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Utterance:
    """What Vosk returns between two end-points (a pause): its raw text and its words."""

    text: str
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start if self.words else 0.0

    @property
    def end(self) -> float:
        return self.words[-1].end if self.words else 0.0


class VoskRecognizer:
    """One recogniser per audio stream (per channel of a stereo file); the model is shared.

    With `grammar` (a list of phrases) Vosk only chooses among those phrases, which gives exact
    results on known prompts; it needs a model with a dynamic graph (small models have one).
    """

    def __init__(self, model: Any, rate: int, grammar: Sequence[str] | None = None) -> None:
        import vosk

        if grammar is None:
            self._recognizer = vosk.KaldiRecognizer(model, float(rate))
        else:
            self._recognizer = vosk.KaldiRecognizer(model, float(rate), json.dumps(list(grammar), ensure_ascii=False))
        self._recognizer.SetWords(True)
        self.utterances: list[Utterance] = []

    def accept(self, pcm16: bytes) -> None:
        if self._recognizer.AcceptWaveform(pcm16):
            self._take(self._recognizer.Result())

    def finish(self) -> list[Utterance]:
        self._take(self._recognizer.FinalResult())
        return self.utterances

    def _take(self, result_json: str) -> None:
        result = json.loads(result_json)
        text = result.get("text", "").strip()
        if not text:
            return
        words = tuple(
            Word(item["word"], round(float(item["start"]), 3), round(float(item["end"]), 3), float(item["conf"]))
            for item in result.get("result", [])
        )
        self.utterances.append(Utterance(text, words))
