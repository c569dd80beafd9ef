"""Vosk's Chinese output tidied: no spaces between characters, numbers as digits only where they are numbers."""

from __future__ import annotations

import pytest

from hotline.asr.chinese import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("我 的 电话 是 一 三 八 零 八 零 八 一 二 三 四", "我的电话是13808081234"),
        ("幺 三 八 零零 零零 一二三四", "13800001234"),
        ("身份证 号 五一零一零二一九八零零一零一一二三四", "身份证号510102198001011234"),
        ("欠 了 我 三万 五千 块 钱", "欠了我35000块钱"),
        ("工资 两千五百 元", "工资2500元"),
        ("一千零五 元", "1005元"),
        ("二零二四 年 三月 五日", "2024年3月5日"),
        ("十二月 二十 号", "12月20号"),
        ("十 月 一 号", "10月1号"),
        ("涨 了 百分之 三点五", "涨了3.5%"),
        ("三点五万", "35000"),
        ("五 块 钱", "5块钱"),
        ("他 今年 八 岁", "他今年8岁"),
        ("打 一 一 零", "打110"),
    ],
)
def test_spoken_numbers_become_digits(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


WORDS_WITH_NUMERALS = [
    *("他 一些 钱 没 给", "一会儿 再说", "一样", "第一 次", "星期三", "三个 人", "三 五 天", "千万 不要"),
    *("万一 出事", "十分 感谢", "三点 钟", "有 一点 事", "两 个 月"),
]


@pytest.mark.parametrize("words", WORDS_WITH_NUMERALS)
def test_words_that_contain_numerals_stay_words(words: str) -> None:
    assert clean_text(words) == words.replace(" ", "")


def test_only_spaces_between_chinese_characters_go() -> None:
    assert clean_text("  我 要 咨询  ") == "我要咨询"
    assert clean_text("wifi 密码 忘 了") == "wifi 密码忘了"
    assert clean_text("안녕 하세요") == "안녕 하세요"  # Korean words keep their spaces
    assert clean_text("") == ""


def test_cn2an_warnings_do_not_escape() -> None:
    # cn2an warns (and the suite turns warnings into errors) on runs it cannot read
    assert clean_text("点 五 万一 亿 十 点") == "点五万一亿十点"
