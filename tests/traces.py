"""The recorded Asterisk 22 traces in ../shared/fixtures/asterisk-22, read the way the README says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.ami.frames import AmiMessage, FrameDecoder


def _find_fixtures() -> Path:
    """../shared/fixtures/asterisk-22 next to the checkout, wherever the checkout is (CI, worktrees)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "fixtures" / "asterisk-22"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "asterisk-22"


FIXTURES = _find_fixtures()
AMI = FIXTURES / "ami"
AGI_TRACES: Path | None = FIXTURES / "agi" if FIXTURES.is_dir() else None
#: Why trace tests did not run; tests/conftest.py repeats it in the summary and makes it an error in CI.
TRACES_MISSING = f"recorded Asterisk 22 traces not found at {FIXTURES} (they live in ../shared beside the checkout)"
#: The one skip marker of every test that replays recorded AMI or AGI traces.
needs_traces = pytest.mark.skipif(not AMI.is_dir() or AGI_TRACES is None, reason=TRACES_MISSING)


def messages(name: str) -> Iterator[AmiMessage]:
    for frame in FrameDecoder().feed((AMI / f"{name}.ami").read_bytes()):
        if isinstance(frame, AmiMessage):
            yield frame


def events(name: str) -> list[dict[str, str]]:
    """The trace's unsolicited events (no ActionID), as the bridge receives them."""
    return [m.as_dict() for m in messages(name) if m.kind == "event" and m.get("ActionID") is None]


def list_items(name: str, action_id: str) -> list[dict[str, str]]:
    """The items of one list action's answer in a trace (e.g. "coreshowchannels-8" in trace 05)."""
    return [m.as_dict() for m in messages(name) if m.kind == "event" and m.get("ActionID") == action_id]


def index(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (AMI / f"{name}.jsonl").read_text().splitlines()]
