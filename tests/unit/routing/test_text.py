"""Text clean-up: whatever arrives, the router sees plain, comparable text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketing.domain.routing.text import MAX_CHARS, counted_groups, counted_pattern, normalize, spoken_number


def test_transcript_spaces_between_chinese_words_go_away() -> None:
    assert normalize("我 在 乐至 县 打工")[0] == "我在乐至县打工"
    assert normalize("call 12348 now")[0] == "call 12348 now"  # spaces between Latin words stay


def test_control_characters_markup_and_full_width_forms_are_neutralised() -> None:
    text, cut = normalize("\ufeff老板\x00欠\u200b薪<script>alert(1)</script>ＡＢＣ１２３\r\n")
    assert text == "老板欠薪 alert(1) abc123" and not cut


#: Full-width punctuation beside combining marks and other forms NFKC rewrites.
WIDE = st.sampled_from(list("，？！（）：；,?工资a\u0301\u0327\u3099ｂ①\uff0e㎎ \u00a0"))


@given(st.text(alphabet=WIDE, max_size=20))
def test_full_width_punctuation_replaced_first_gives_what_nfkc_gives(text: str) -> None:
    assert normalize(text) == normalize(unicodedata.normalize("NFKC", text))


def test_very_long_text_is_cut_and_says_so() -> None:
    text, cut = normalize("工资" * MAX_CHARS)
    assert cut and len(text) == MAX_CHARS


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("23", 23),
        ("二十三", 23),
        ("二十多", 20),
        ("三十几", 30),
        ("十几", 11),
        ("几十", 20),
        ("两百", 200),
        ("一百五十", 150),
        ("上百", 100),
        ("一万二", 10_002),  # read digit by digit, as a count of people it is never that large
        ("几", None),
        ("", None),
        ("工人", None),
    ],
)
def test_spoken_numbers(words: str, value: int | None) -> None:
    assert spoken_number(words) == value


def test_counted_groups_find_people_counts_in_speech_and_digits() -> None:
    pattern = counted_pattern(("工人", "村民"))
    assert counted_groups(pattern, "我们二十多个工人和30名村民，还有几个工人") == [
        ("二十多个工人", 20),
        ("30名村民", 30),
    ]
    assert counted_groups(counted_pattern(()), "二十个工人") == []
