"""Where the recorded Asterisk 22 traces are: ../shared/fixtures/asterisk-22 beside the repository
(CI's layout), or further up (a worktree under /work/wt), or HOTLINE_TEST_TRACES."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def find_traces() -> Path | None:
    named = os.environ.get("HOTLINE_TEST_TRACES")
    if named:
        return Path(named)
    for parent in REPO.parents:
        candidate = parent / "shared" / "fixtures" / "asterisk-22"
        if candidate.is_dir():
            return candidate
    return None


TRACES = find_traces()
AGI_TRACES = TRACES / "agi" if TRACES else None
