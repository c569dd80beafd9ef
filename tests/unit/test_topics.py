"""Hot-topic rules: top and rising categories, typical questions without personal numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketing.domain.topics import (
    REDACTED,
    Question,
    remove_personal_numbers,
    rising_topics,
    short_question,
    top_topics,
    typical_questions,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话13808081234，请回电", f"我的电话{REDACTED}，请回电"),
        ("+86 138-0808-1234", REDACTED),
        ("座机 0832-1234567", f"座机 {REDACTED}"),
        ("身份证51202219800101123X", f"身份证{REDACTED}"),
        ("卡号 6222 0212 3456 7890 123 被冻结", f"卡号 {REDACTED} 被冻结"),
        ("QQ1234567找我", f"QQ{REDACTED}找我"),
        ("老板欠我3000元，拖了120000元的工程款", "老板欠我3000元，拖了120000元的工程款"),
        ("2026年11月24日", "2026年11月24日"),
    ],
)
def test_personal_numbers_are_removed_and_amounts_and_dates_kept(text: str, expected: str) -> None:
    assert remove_personal_numbers(text) == expected


@given(st.text(alphabet=st.characters(), max_size=300))
def test_short_questions_are_one_clean_line_of_bounded_length(text: str) -> None:
    line = short_question(text, max_chars=80)
    assert len(line) <= 80
    assert not any(c in line for c in "\n\r\t\x00\x07\u202e\u2028")
    assert line == line.strip()


def test_long_questions_are_cut_with_an_ellipsis() -> None:
    assert short_question("问" * 100, 10) == "问" * 9 + "…"


def test_top_topics_rank_by_count_then_name_with_shares() -> None:
    current = {"劳动争议": 50, "婚姻家庭": 30, "交通事故": 30, "刑事": 0}
    top = top_topics(current, {"劳动争议": 40}, limit=2)
    assert [(t.category, t.count, t.previous) for t in top] == [("劳动争议", 50, 40), ("交通事故", 30, 0)]
    assert top[0].share == round(50 / 110, 4)


def test_rising_topics_by_increase_leaving_out_tiny_and_falling_ones() -> None:
    current = {"劳动争议": 50, "婚姻家庭": 30, "交通事故": 12, "消费": 2, "刑事": 5}
    previous = {"劳动争议": 40, "婚姻家庭": 35, "交通事故": 2, "消费": 0}
    rising = rising_topics(current, previous, limit=10)
    assert [(t.category, t.increase, t.growth) for t in rising] == [
        ("交通事故", 10, 5.0),  # same increase: the steeper rise first
        ("劳动争议", 10, 0.25),
        ("刑事", 5, None),  # new this month
    ]


def test_typical_questions_come_from_the_most_frequent_subcategories() -> None:
    questions = [
        Question("农民工讨薪", "工地老板拖欠三个月工资不给，我电话13808081234，怎么办"),
        Question("农民工讨薪", "欠薪"),
        Question("农民工讨薪", "包工头跑了，工资找谁要？"),
        Question("工伤", "在厂里受伤了，老板不给报工伤，能赔多少钱"),
        Question("加班费", "周末加班没有加班费，合法吗"),
        Question(None, "   "),
    ]
    typical = typical_questions(questions, per_topic=2)
    assert len(typical) == 2
    assert typical[0].startswith("工地老板拖欠三个月工资") and REDACTED in typical[0]
    assert typical[1] in {"在厂里受伤了，老板不给报工伤，能赔多少钱", "周末加班没有加班费，合法吗"}
    assert all("13808081234" not in t for t in typical)
