"""The labelled questions the router is tuned and evaluated on, read in place and never copied.

`../shared/data/legal_questions_dev.jsonl` (see its README): the `crimekg_13cls` subset has the
natural class mix; one row in five of it (by a hash of the row id, so the split never changes) is
the test set. Everything else may be used for tuning.
"""

from __future__ import annotations

import hashlib
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


def is_test(row_id: str) -> bool:
    return int(hashlib.sha256(row_id.encode()).hexdigest(), 16) % 5 == 0


def load_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split(rows: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(headline train, headline test, other subsets)."""
    train = [r for r in rows if r["subset"] == HEADLINE and not is_test(r["id"])]
    test = [r for r in rows if r["subset"] == HEADLINE and is_test(r["id"])]
    other = [r for r in rows if r["subset"] != HEADLINE]
    return train, test, other
