"""What people ask about (实时统计咨询事项): the monthly hot-topic report, from counts. No I/O.

Typical questions are citizens' own words, so they leave with personal numbers (phones, ID cards,
bank cards) removed, control characters dropped and the length capped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Seven or more digits, possibly split by spaces or dashes (phones, ID and bank cards, +86 forms);
#: an ID card may end in X. Amounts of money rarely reach seven digits and are kept.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)\+?\d(?:[\d \-]{5,}\d)[Xx]?(?!\d)")
_WHITESPACE = re.compile(r"\s+")
REDACTED = "[号码]"


def remove_personal_numbers(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in match.group())
        return REDACTED if digits >= 7 else match.group()

    return _PERSONAL_NUMBER.sub(replace, text)


def short_question(text: str, max_chars: int = 80) -> str:
    """One line of at most `max_chars` characters, safe to show and export."""
    visible = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    line = _WHITESPACE.sub(" ", remove_personal_numbers(visible)).strip()
    return line if len(line) <= max_chars else line[: max_chars - 1].rstrip() + "…"


@dataclass(frozen=True)
class TopTopic:
    category: str
    count: int
    share: float
    previous: int


@dataclass(frozen=True)
class RisingTopic:
    category: str
    count: int
    previous: int
    increase: int
    #: Growth over the previous month (0.5 = +50 %); None when the topic is new this month.
    growth: float | None


def top_topics(current: Mapping[str, int], previous: Mapping[str, int], limit: int) -> list[TopTopic]:
    """The `limit` most asked-about categories, most first (ties by name, so reports are stable)."""
    total = sum(current.values())
    ranked = sorted((item for item in current.items() if item[1] > 0), key=lambda item: (-item[1], item[0]))
    return [TopTopic(name, count, round(count / total, 4), previous.get(name, 0)) for name, count in ranked[:limit]]


def rising_topics(
    current: Mapping[str, int], previous: Mapping[str, int], limit: int, min_count: int = 3
) -> list[RisingTopic]:
    """Categories asked about more than last month, by the size of the increase.

    Topics with fewer than `min_count` questions this month are left out: 1 → 2 is not a trend.
    """
    rising = []
    for name, count in current.items():
        before = previous.get(name, 0)
        if count >= min_count and count > before:
            growth = None if before == 0 else round((count - before) / before, 4)
            rising.append(RisingTopic(name, count, before, count - before, growth))
    rising.sort(key=lambda t: (-t.increase, -(t.growth if t.growth is not None else float("inf")), t.category))
    return rising[:limit]


@dataclass(frozen=True)
class Question:
    subcategory: str | None
    text: str


def typical_questions(questions: Sequence[Question], per_topic: int = 3, target_chars: int = 40) -> list[str]:
    """Up to `per_topic` short questions, one from each of the most frequent subcategories.

    Within a subcategory the question whose length is nearest `target_chars` wins: long enough to say
    something, short enough to read at a glance. Input order breaks ties.
    """
    by_sub: dict[str | None, list[str]] = {}
    for question in questions:
        text = short_question(question.text)
        if text:
            by_sub.setdefault(question.subcategory, []).append(text)
    ranked = sorted(by_sub.items(), key=lambda item: -len(item[1]))
    picked: list[str] = []
    for _sub, texts in ranked:
        best = min(texts, key=lambda t: abs(len(t) - target_chars))
        if best not in picked:
            picked.append(best)
        if len(picked) == per_topic:
            break
    return picked
