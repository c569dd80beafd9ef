"""Tidying Vosk's Chinese output for people and for the router; the raw text is kept apart.

Vosk writes 我 的 电话 是 一 三 八 …: a space between words and numbers spelled out. We drop the
spaces between Chinese characters and write numbers as digits where they are numbers (phone and
ID numbers, money, dates), with cn2an doing the arithmetic. cn2an's own sentence mode also turns
一些 into 1些 and 星期三 into 星期3, so this module decides what counts as a number:

- a run of three or more digit words (一三八…, 二零二四, 幺一零) is read digit by digit;
- a run with a unit (三万五千, 两千五百, 十二, 十) is a number when it starts with a digit or 十;
- a single numeral is a number only before a unit of dates, money or age (三月, 五日, 五块, 八岁);
- 百分之二十 is 20%.
Everything else (一些, 一样, 第一, 星期三, 三五天, 千万, 万一) stays as spoken.
"""

from __future__ import annotations

import re
import warnings

DIGITS = {"零": "0", "〇": "0", "洞": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3"}
DIGITS |= {"四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
UNITS = "十百千万亿"
#: What may follow a lone numeral for it to be a number (三月, 五日, 五号, 五块, 八岁, 三万).
NUMBER_AFTER = "年月日号元块角毛岁万亿"

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_BETWEEN_HAN = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")
_NUMERAL_RUN = re.compile(rf"[{''.join(DIGITS)}{UNITS}点]+")
_PERCENT = re.compile(rf"百分之([{''.join(DIGITS)}{UNITS}点]+)")


def clean_text(raw: str) -> str:
    """Spaces out between Chinese characters, numbers as digits. Text in other scripts is left alone."""
    text = _SPACE_BETWEEN_HAN.sub("", raw.strip())
    text = _PERCENT.sub(_convert_percent, text)
    return _NUMERAL_RUN.sub(_convert_run, text)


def _convert_percent(match: re.Match[str]) -> str:
    number = _cn2an(match.group(1))
    return f"{number}%" if number is not None else match.group()


def _convert_run(match: re.Match[str]) -> str:
    run = match.group()
    text = match.string
    after = text[match.end() :]
    trailing = ""
    while run.endswith("点"):  # 三点 (three o'clock, 一点 "a little"): 点 is not part of a number here
        run, trailing = run[:-1], "点" + trailing
    if not run or (run[0] not in DIGITS and run[0] != "十"):  # 千万 (by all means), 万一 (in case)
        return match.group()
    if len(run) == 1:
        if trailing or not after[:1] or after[0] not in NUMBER_AFTER:
            return match.group()  # 一些, 星期三, 十分 (very)
    elif all(char in DIGITS for char in run):
        if len(run) == 2:
            return match.group()  # 三五天 (a few days)
        return "".join(DIGITS[char] for char in run) + trailing
    number = _cn2an(run)
    if number is None:
        return match.group()
    return number + trailing


def _cn2an(run: str) -> str | None:
    """cn2an's reading of one numeral run, or None when it is not a well-formed number (万一)."""
    import cn2an

    multiplier = 1
    if "点" in run and run[-1] in "万亿":  # 三点五万: cn2an reads decimals, not decimals of 万
        multiplier = 10_000 if run[-1] == "万" else 100_000_000
        run = run[:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns as well as raising on what it cannot read
        try:
            value = cn2an.cn2an(run, "smart")
        except (ValueError, KeyError, IndexError):
            return None
    value = value * multiplier
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
