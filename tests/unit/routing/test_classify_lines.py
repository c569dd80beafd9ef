"""`hotline classify --jsonl` line handling: no input line is lost, whatever it holds."""

from __future__ import annotations

import io
import json

from hotline.classify import MAX_LINE_CHARS, classify_jsonl
from ticketing.domain.routing import KeywordRouter


def test_every_kind_of_bad_line_gets_its_error_and_the_rest_go_on(router: KeywordRouter) -> None:
    lines = [
        b'{"text": "\xe7\xa6\xbb\xe5\xa9\x9a"}\n',  # 离婚
        b"\xff\xfe not utf-8\n",
        b'{"text": "x", "caller_number": 13808080808}\n',
        ("[" * 50_000 + "\n").encode(),  # nested too deep for the JSON parser
        json.dumps({"text": "x" * MAX_LINE_CHARS}).encode() + b"\n",
        b'{"text": null}\n',
        b'{"text": "\xe5\x80\x9f\xe9\x92\xb1"}',  # 借钱, no final newline
    ]
    out = io.StringIO()
    assert classify_jsonl(router, lines, out) == (7, 5)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["line"] for r in results] == list(range(1, 8))
    assert [r.get("error", {}).get("id") for r in results] == [
        None,
        "invalid_utf8",
        "invalid_caller_number",
        "invalid_json",
        "line_too_long",
        "missing_text",
        None,
    ]
    assert results[0]["suggested_category"] == "婚姻家庭" and results[6]["suggested_category"] == "债权债务"
