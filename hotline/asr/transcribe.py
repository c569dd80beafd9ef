"""One recording to one transcript: decode, recognise each speaker's channel, tidy, time it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hotline.asr import audio, segments
from hotline.asr.chinese import clean_text
from hotline.asr.model import LoadedModel
from hotline.asr.recognizer import VoskRecognizer


@dataclass
class TranscriptResult:
    path: str
    #: cleaned, with speaker labels when known (what calls and tickets get)
    text: str
    #: Vosk's words as it wrote them, utterances separated by a space
    raw_text: str
    words: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    duration_s: float
    processing_s: float
    model: str
    audio_format: str
    speakers: list[str | None] = field(default_factory=list)

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of processing per second of audio (below 1 is faster than real time)."""
        return self.processing_s / self.duration_s if self.duration_s else 0.0

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(duration_s=round(self.duration_s, 3), processing_s=round(self.processing_s, 3))
        body["rtf"] = round(self.rtf, 4)
        return body


def transcribe_file(
    path: str | Path, model: LoadedModel, grammar: Sequence[str] | None = None, info: audio.AudioInfo | None = None
) -> TranscriptResult:
    """Transcribe one file; raises AsrError (with its reason) when the file cannot be decoded."""
    started = time.perf_counter()
    info = info or audio.probe(path)
    speakers = segments.channel_speakers(str(path), info.channels)
    recognizers = [VoskRecognizer(model.vosk, info.rate, grammar) for _ in speakers]
    for block in audio.blocks(info):
        if len(recognizers) == 1:
            samples = block[:, 0] if info.channels == 1 else block.mean(axis=1).astype(block.dtype)
            recognizers[0].accept(samples.tobytes())
        else:
            for channel, recognizer in enumerate(recognizers):
                recognizer.accept(block[:, channel].copy().tobytes())

    timed: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    for speaker, recognizer in zip(speakers, recognizers, strict=True):
        for utterance in recognizer.finish():
            timed.append(
                {
                    "speaker": speaker,
                    "start": utterance.start,
                    "end": utterance.end,
                    "text": clean_text(utterance.text),
                    "raw_text": utterance.text,
                }
            )
            words += [{**asdict(word), "speaker": speaker} for word in utterance.words]
    timed.sort(key=lambda s: (s["start"], s["end"]))
    words.sort(key=lambda w: (w["start"], w["end"]))
    raw_text = " ".join(s.pop("raw_text") for s in timed)
    return TranscriptResult(
        path=str(path),
        text=segments.render(timed),
        raw_text=raw_text,
        words=words,
        segments=timed,
        duration_s=info.duration_s,
        processing_s=time.perf_counter() - started,
        model=model.name,
        audio_format=info.description,
        speakers=speakers,
    )
