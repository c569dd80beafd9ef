"""The labelled questions the router is tuned and evaluated on, read in place and never copied.

`../shared/data/legal_questions_dev.jsonl` (see its README): the `crimekg_13cls` subset has the
natural class mix; scripts/bench_router.py cross-validates over all of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("HOTLINE_LEGAL_QUESTIONS", REPO.parent / "shared" / "data" / "legal_questions_dev.jsonl"))
HEADLINE = "crimekg_13cls"


def find_data() -> Path | None:
    for candidate in (DATA, Path("/work/shared/data/legal_questions_dev.jsonl")):
        if candidate.is_file():
            return candidate
    return None


def load_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
