"""The FastAGI wire format as Asterisk 22 speaks it (shared/fixtures/asterisk-22/agi).

Asterisk opens with `agi_xxx: value` lines ended by an empty line (LF only), then answers each
command with one line (`200 result=…`, `510 …`, `511 …`) or, for a usage error, a `520-` block
ended by `520 End of proper usage.`. An unsolicited `HANGUP` line can arrive at any time, and one
more arrives at the end of every session. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HANGUP_LINE = "HANGUP"

_NEEDS_QUOTES = re.compile(r'[\s"\\]')
_RESULT = re.compile(r"^200 result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?P<pairs>(?: [A-Za-z_]+=\S*)*)$")


class AgiProtocolError(Exception):
    """Asterisk sent something this server cannot read (a broken agi_* block or response line)."""


@dataclass(frozen=True)
class AgiResponse:
    code: int
    #: The `result=` value as text ("" when Asterisk left it empty, as GET DATA does on a timeout).
    result: str = ""
    #: The part in parentheses: a variable's value, "timeout", "dtmf", "hangup".
    data: str | None = None
    #: key=value pairs after the result, e.g. {"endpos": "3520"}.
    extra: dict[str, str] = field(default_factory=dict)
    #: The whole response as received (several lines for 520).
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


def parse_env_line(line: str) -> tuple[str, str]:
    """`agi_callerid: 5550100` -> ("agi_callerid", "5550100"); an empty value may have no space."""
    key, sep, value = line.partition(":")
    if not sep or not key.startswith("agi_") or " " in key:
        raise AgiProtocolError(f"not an agi_* variable line: {line[:80]!r}")
    return key, value[1:] if value.startswith(" ") else value


def parse_response(text: str) -> AgiResponse:
    """One complete response (a single line, or the lines of a 520 block joined with LF)."""
    first = text.split("\n", 1)[0]
    if len(first) < 3 or not first[:3].isdigit():
        raise AgiProtocolError(f"not an AGI response: {first[:80]!r}")
    code = int(first[:3])
    if code != 200:
        return AgiResponse(code=code, text=text)
    match = _RESULT.match(first)
    if match is None:
        raise AgiProtocolError(f"unreadable 200 response: {first[:80]!r}")
    extra = dict(pair.split("=", 1) for pair in match["pairs"].split())
    return AgiResponse(code=200, result=match["result"], data=match["data"], extra=extra, text=text)


def is_block_start(line: str) -> bool:
    """A `520-` line opens a multi-line usage block; read on to `520 …`."""
    return line.startswith("520-")


def quote(argument: str) -> str:
    """An argument as Asterisk's AGI parser reads it: quoted when empty or holding blanks or quotes."""
    if "\n" in argument or "\r" in argument:
        raise ValueError(f"an AGI argument cannot contain a line break: {argument[:40]!r}")
    if argument and not _NEEDS_QUOTES.search(argument):
        return argument
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(*words: str) -> str:
    """`format_command("STREAM FILE", "beep", "")` -> 'STREAM FILE beep ""' (no line end)."""
    verb, *arguments = words
    return " ".join([verb, *(quote(a) for a in arguments)])
