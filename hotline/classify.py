"""`hotline classify`: the router's decision for one text, or for JSON lines in bulk.

Bulk mode is how operators re-classify old tickets and how the router is evaluated: one JSON
object per input line, in input order; a line that cannot be read gets an error object and the
run goes on, so one bad line never loses the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ticketing.domain.errors import UnroutableText
from ticketing.domain.routing import KeywordRouter, RoutingDecision
from ticketing.routing.model import TopicModel

MAX_LINE_CHARS = 100_000


def describe(decision: RoutingDecision) -> str:
    """A few lines a person reads at a terminal."""
    d = decision.to_dict()
    station = d["station"]
    lines = ["!! " + decision.crisis_line()] if decision.crisis else []
    lines += [
        f"category:     {d['category']}"
        + (f" (suggested: {d['suggested_category']})" if d["needs_triage"] else "")
        + (f" / {d['subcategory']}" if d["subcategory"] else ""),
        f"service line: {d['service_line']} ({d['service_line_rule']})",
        f"confidence:   {d['confidence']:.3f} ({d['rule']}"
        + (f", model {d['model']})" if d["model"] else ", keyword rules)"),
        "keywords:     " + (", ".join(f"{k['word']} {k['weight']:+g}" for k in d["keywords"]) or "-"),
        *(
            ["rule words:   " + ", ".join(f"{k['word']} {k['weight']:+g}" for k in d["rule_keywords"])]
            if d["model"] and d["rule_keywords"]
            else []
        ),
        f"flags:        {', '.join(d['flags']) or '-'}  priority: {d['priority']}"
        + ("  ALERT supervisors" if d["alert"] else ""),
        f"station:      {station['name']} ({station['code']}) by {station['rule']}: {station['explanation']}",
    ]
    return "\n".join(lines)


def active_model(database_url: str, target_precision: float) -> TopicModel | None:
    """The active learned model, or None (the rules decide) when there is none or no database."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import make_engine, make_session_factory
    from ticketing.routing.versions import load_active

    if database_url.startswith("sqlite:///") and not Path(database_url.removeprefix("sqlite:///")).is_file():
        return None  # no database set up here: do not create one
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return load_active(session, target_precision)
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def _error(line_no: int, error_id: str, message: str) -> dict[str, Any]:
    return {"line": line_no, "error": {"id": error_id, "message": message}}


def classify_line(router: KeywordRouter, line_no: int, raw: bytes) -> dict[str, Any]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(line_no, "invalid_utf8", f"not UTF-8 text: {exc}")
    if len(line) > MAX_LINE_CHARS:
        return _error(line_no, "line_too_long", f"line over {MAX_LINE_CHARS} characters; shorten the text")
    try:
        item = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        return _error(line_no, "invalid_json", f"not valid JSON: {exc}")
    if not isinstance(item, dict):
        return _error(line_no, "invalid_line", 'each line must be a JSON object like {"text": "..."}')
    text, number = item.get("text"), item.get("caller_number")
    if not isinstance(text, str):
        return _error(line_no, "missing_text", 'the object needs a "text" string')
    if number is not None and not isinstance(number, str):
        return _error(line_no, "invalid_caller_number", '"caller_number" must be a string of digits')
    out: dict[str, Any] = {"line": line_no}
    if isinstance(item.get("id"), str | int):
        out["id"] = item["id"]
    try:
        decision = router.route(text, caller_number=number)
    except UnroutableText as exc:
        return {**out, "error": {"id": exc.error_id, "message": exc.message}}
    out.update(decision.to_dict())
    return out


def classify_jsonl(router: KeywordRouter, lines: Iterable[bytes], out: TextIO) -> tuple[int, int]:
    """Classify every line (raw bytes, so one badly encoded line cannot stop the rest); returns
    (lines read, lines with an error). Blank lines are skipped."""
    read = errors = 0
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        read += 1
        result = classify_line(router, line_no, line)
        errors += "error" in result
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return read, errors
