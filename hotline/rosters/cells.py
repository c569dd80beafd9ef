"""Reading one roster cell: header names, dates, times, lists. Standard library only.

Each parser returns the value or raises CellError with a reason a roster clerk can act on. The
formats are those Chinese office files carry: 2026-12-01, 2026/12/1, 2026年12月1日; 9:00, 09:00,
09：00 (full-width colon); lists separated by 、，,；;/| or spaces.
"""

from __future__ import annotations

import re
from datetime import date, time

#: Canonical column -> header names accepted (compared after `normalise_header`).
HEADERS: dict[str, tuple[str, ...]] = {
    "lawyer": ("律师", "值班律师", "律师姓名", "姓名", "用户名", "lawyer", "username", "name"),
    "date": ("日期", "值班日期", "date", "day"),
    "start": ("开始", "开始时间", "上班时间", "start", "starttime", "start time", "from"),
    "end": ("结束", "结束时间", "下班时间", "end", "endtime", "end time", "to"),
    "hours": ("时段", "班次时间", "值班时间", "hours", "shift"),
    "queues": ("队列/技能", "技能/队列", "队列", "技能", "业务", "queues/skills", "queues", "queue", "skills", "skill"),
    "languages": ("语言", "语种", "languages", "language"),
    "penalty": ("penalty", "罚分", "惩罚值"),
}
REQUIRED = ("lawyer", "date", "queues")
LABELS = {"lawyer": "律师", "date": "日期", "start": "开始", "end": "结束", "queues": "队列/技能", "hours": "时段"}

#: Languages recognised under another name; anything else that looks like a language name is kept.
LANGUAGE_ALIASES = {
    "mandarin": "普通话",
    "putonghua": "普通话",
    "chinese": "普通话",
    "汉语": "普通话",
    "tibetan": "藏语",
    "藏文": "藏语",
    "english": "英语",
    "dialect": "方言",
    "uyghur": "维吾尔语",
    "mongolian": "蒙古语",
}
DEFAULT_LANGUAGES = ("普通话",)
MAX_CELL_CHARS = 200

_PAREN = re.compile(r"[（(][^）)]*[）)]")
_SPACES = re.compile(r"\s+")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:00(?::00)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_NEXT_DAY_PREFIX = re.compile(r"^(次日|翌日|第二天|next\s*day)\s*", re.IGNORECASE)
_NEXT_DAY_SUFFIX = re.compile(r"\s*(\(\+1\)|（\+1）|\+1|[(（]次日[)）])$")
_SEPARATORS = re.compile(r"[、,，;；/|\s]+")
_LANGUAGE = re.compile(r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z ()（）-]{0,15}$")
_RANGE = re.compile(r"^\s*(\S+?)\s*(?:-|–|—|~|～|至|到)\s*(\S+)\s*$")
#: Excel runs a cell starting with one of these as a formula when the data is opened again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CellError(ValueError):
    """A cell's value is unusable; the message says why and what to write instead."""


def normalise_header(text: str) -> str:
    """Lower case, no BOM, no parenthesised hints ("开始(HH:MM)"), single spaces, ASCII slash."""
    text = text.replace("\ufeff", "").replace("／", "/")
    text = _PAREN.sub("", text)
    text = _SPACES.sub(" ", text).strip().casefold()
    return re.sub(r"\s*/\s*", "/", text)


def header_key(text: str) -> str | None:
    """The canonical column a header names, or None for a column the roster does not use."""
    normalised = normalise_header(text)
    for key, names in HEADERS.items():
        if normalised in names:
            return key
    return None


def check_text(text: str) -> str:
    """Refuse what is not plain text: formula-like starts (CSV injection), control characters, size."""
    if len(text) > MAX_CELL_CHARS:
        raise CellError(f"cell has {len(text)} characters (at most {MAX_CELL_CHARS})")
    if _CONTROL.search(text):
        raise CellError("cell contains control characters; type plain text")
    stripped = text.lstrip(" ")
    if stripped.startswith(_FORMULA_START):
        raise CellError(f"text starting with {stripped[:1]!r} looks like a spreadsheet formula; type the plain value")
    return text.strip()


def parse_date(text: str) -> date:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                value = date(year, month, day)
            except ValueError:
                raise CellError(f"{text!r} is not a real date") from None
            if not 2000 <= value.year <= 2100:
                raise CellError(f"{text!r} is outside the years 2000–2100")
            return value
    raise CellError(f"{text!r} is not a date: write 2026-12-01 (or 2026/12/1, 2026年12月1日)")


def _clock(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip())
    if not match:
        raise CellError(f"{text!r} is not a time: write HH:MM, e.g. 09:00")
    if int(match[3] or 0):
        raise CellError(f"{text!r}: shifts start and end on whole minutes")
    return int(match[1]), int(match[2])


def parse_time(text: str) -> time:
    hour, minute = _clock(text)
    if hour > 23 or minute > 59:
        raise CellError(f"{text!r} is not a time of day (00:00–23:59)")
    return time(hour, minute)


def parse_end(text: str, start: time | None) -> tuple[time, bool]:
    """End time and whether it falls on the next day: 24:00, and 次日08:00 or 08:00+1 for night shifts."""
    body = _NEXT_DAY_PREFIX.sub("", text)
    if body == text:
        body = _NEXT_DAY_SUFFIX.sub("", text)
    next_day = body != text
    if _clock(body) == (24, 0):
        if next_day:
            raise CellError(f"{text!r}: 24:00 already ends the day; write 24:00 or 次日00:00")
        return time(0), True
    value = parse_time(body)
    if start is None:
        return value, next_day
    if next_day:
        if value > start:
            raise CellError(f"{text!r}: from {start:%H:%M} to the next day's {value:%H:%M} is over 24 hours")
        return value, True
    if value == start:
        raise CellError(f"{text!r}: the shift ends when it starts ({start:%H:%M})")
    if value < start:
        raise CellError(
            f"{text!r} is before the start {start:%H:%M}; for a night shift write the end as 次日{value:%H:%M}"
        )
    return value, False


def parse_range(text: str) -> tuple[str, str]:
    """'09:00-12:00' (or – ~ 至) into its two ends, still as text."""
    match = _RANGE.match(text)
    if not match:
        raise CellError(f"{text!r} is not a time range: write 09:00-12:00")
    return match[1], match[2]


def split_list(text: str) -> list[str]:
    return [item for item in _SEPARATORS.split(text.strip()) if item]


def parse_languages(text: str) -> tuple[str, ...]:
    if not text.strip():
        return DEFAULT_LANGUAGES
    languages: list[str] = []
    for item in split_list(text):
        if not _LANGUAGE.match(item):
            raise CellError(f"{item!r} is not a language name (e.g. 普通话, 藏语, 方言)")
        name = LANGUAGE_ALIASES.get(item.casefold(), item)
        if name not in languages:
            languages.append(name)
    return tuple(languages)


def parse_penalty(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or int(text) > 99:
        raise CellError(f"{text!r} is not a penalty: a whole number 0–99 (lower rings first)")
    return int(text)
