"""Text clean-up before routing: typed questions, ASR transcripts and whatever else arrives.

Transcripts come without punctuation, with spaces between words (Vosk writes "我 在 乐至 县"),
filler words and spoken numerals; typed text may carry control characters, markup or full-width
forms. None of that may break the router, and none of it carries meaning for it.
"""

from __future__ import annotations

import re
import unicodedata

#: Longer input is cut here: a question, even a long transcript, fits many times over.
MAX_CHARS = 20_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\uffff]")
_TAG = re.compile(r"<[^<>]{0,200}>")
_SPACES = re.compile(r"\s+")
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A space between two Chinese characters is an ASR word boundary, not a meaningful gap.
_HAN_GAP = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")


#: The full-width punctuation of typed questions (，and ？ in most), as NFKC writes it. Each is its
#: own compatibility decomposition, so replacing them first leaves NFKC's result unchanged, and
#: most texts then need no NFKC pass (str.replace is some ten times cheaper).
_FULL_WIDTH = (("，", ","), ("？", "?"), ("！", "!"), ("（", "("), ("）", ")"), ("：", ":"), ("；", ";"))


def normalize(text: str) -> tuple[str, bool]:
    """Return the cleaned text and whether it had to be cut to MAX_CHARS."""
    cut = len(text) > MAX_CHARS
    if cut:
        text = text[:MAX_CHARS]
    if not unicodedata.is_normalized("NFKC", text):
        for wide, narrow in _FULL_WIDTH:
            if wide in text:
                text = text.replace(wide, narrow)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    if not text.isprintable():  # the usual case skips the search
        text = _CONTROL.sub(" ", text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if not text.isprintable() or " " in text:
        text = _HAN_GAP.sub("", text)
        text = _SPACES.sub(" ", text)
    return text.strip().lower(), cut


_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
#: Vague amounts people say instead of a number: 几十个工人 is a few dozen, 上百 at least a hundred.
_VAGUE = {"几十": 20, "十几": 11, "好几十": 30, "上百": 100, "几百": 200, "上千": 1000, "成百上千": 100}


def spoken_number(words: str) -> int | None:
    """The value of a number as written or spoken: 23, 二十三, 二十多, 两百, 几十, 上百.

    Approximations (多, 几, 来, 余) count as the round number before them. None when `words` is
    not a number.
    """
    words = words.strip()
    if not words:
        return None
    if words.isdigit():
        return int(words)
    for vague, value in _VAGUE.items():
        if words.startswith(vague):
            return value
    words = words.rstrip("多几来余")
    if not words:
        return None
    if words.isdigit():
        return int(words)
    total = section = digit = 0
    seen = False
    for char in words:
        if char in _DIGITS:
            digit = _DIGITS[char]
            seen = True
        elif char in _UNITS:
            unit = _UNITS[char]
            if unit == 10_000:
                total += (section + digit) * unit
                section = digit = 0
            else:
                section += (digit or 1) * unit
                digit = 0
            seen = True
        else:
            return None
    return total + section + digit if seen else None


_NUMBER = "(?:[0-9]+|[零〇一幺二两俩三仨四五六七八九十百千万几]+|好几十|上百|上千|成百上千)[多几来余]?"
_COUNTED = re.compile(rf"({_NUMBER})\s*(?:个|名|位|多个|多名|户|家)?")


def counted_pattern(nouns: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern for "<number> <noun>" such as 二十多个工人 or 30名员工; group 1 is the number."""
    return re.compile(_COUNTED.pattern + "(?:" + "|".join(map(re.escape, nouns or ("\uffff",))) + ")")


def counted_groups(pattern: re.Pattern[str], text: str) -> list[tuple[str, int]]:
    """(mention, number) for every match of a `counted_pattern` in `text`: ("二十多个工人", 20)."""
    found = []
    for match in pattern.finditer(text):
        value = spoken_number(match.group(1))
        if value is not None:
            found.append((match.group(0), value))
    return found
