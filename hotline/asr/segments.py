"""Who spoke: speakers from a stereo file's channels or a leg file's name, and the text with labels.

MixMonitor on the caller's channel records what the caller says (the channel's read direction)
and what the caller hears, i.e. the lawyer (its write direction). With option D it interleaves
the two as a stereo file, left = caller, right = lawyer; with r()/t() it writes one file per leg,
and the dialplan names them …-caller.wav / …-lawyer.wav (Monitor()'s old …-in / …-out also work).
A mono file mixes both and has no speaker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

CALLER = "caller"
LAWYER = "lawyer"
STEREO_SPEAKERS = (CALLER, LAWYER)
LABELS = {CALLER: "来电人", LAWYER: "律师"}
LEG_SUFFIXES = {"-caller": CALLER, "-in": CALLER, "-lawyer": LAWYER, "-out": LAWYER}


def leg_of(path: str) -> tuple[str, str | None]:
    """(the recording's name without its leg suffix and extension, the leg's speaker or None)."""
    stem = PurePath(path).with_suffix("").as_posix()
    for suffix, speaker in LEG_SUFFIXES.items():
        if stem.endswith(suffix):
            return stem[: -len(suffix)], speaker
    return stem, None


def channel_speakers(path: str, channels: int) -> list[str | None]:
    """The speaker of each channel we recognise separately (stereo: both; otherwise one stream)."""
    if channels == 2:
        return list(STEREO_SPEAKERS)
    return [leg_of(path)[1]]


def render(segments: Iterable[dict[str, Any]]) -> str:
    """Segments in time order as text: one line per speaker turn, labelled when the speaker is known."""
    lines: list[tuple[str | None, list[str]]] = []
    for segment in sorted(segments, key=lambda s: (s["start"], s["end"])):
        text = (segment.get("text") or "").strip()
        if not text:
            continue
        speaker = segment.get("speaker")
        if lines and lines[-1][0] == speaker:
            lines[-1][1].append(text)
        else:
            lines.append((speaker, [text]))
    rendered = []
    for speaker, texts in lines:
        joined = " ".join(texts)
        rendered.append(f"{LABELS[speaker]}：{joined}" if speaker in LABELS else joined)
    return "\n".join(rendered)


def merge_recordings(recordings: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> str:
    """One text for several recordings of a call, given as (path, segments) in call order.

    Leg files of the same recording share one time line, so their segments interleave; separate
    recordings (after a transfer, say) follow one another.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, segments in recordings:
        groups.setdefault(leg_of(path)[0], []).extend(segments)
    return "\n".join(text for text in (render(segments) for segments in groups.values()) if text)
