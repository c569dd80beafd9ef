"""The routing rules on their own: no jieba, no phone data. Texts are given pre-segmented (words
separated by spaces, as a Vosk transcript comes), so each test shows exactly what the rules see."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ticketing.domain.routing import CategoryRules, FlagRules, KeywordRouter, Place, PlaceIndex, RoutingRules
from ticketing.domain.routing.matching import Match, WordMatcher

LABOUR = CategoryRules(
    "劳动争议",
    "consultation",
    bias=0.2,
    keywords={"工资": 2.0, "老板": 1.0, "工伤": 2.5, "借": -1.0, "工资 不给": 1.5},
    subcategories={"工伤": {"工伤": 1.0}, "农民工讨薪": {"工资 不给": 1.0, "农民工": 1.0}},
)
FAMILY = CategoryRules("婚姻家庭", "consultation", keywords={"离婚": 3.0, "丈夫": 1.0, "抚养费": 2.0})
DEBT = CategoryRules("债权债务", "consultation", keywords={"借": 1.5, "还钱": 2.0})
OTHER = CategoryRules("其他", "consultation", bias=0.5)
RULES = RoutingRules(
    categories=(LABOUR, FAMILY, DEBT, OTHER),
    synonyms={"老公": "丈夫", "工钱": "工资"},
    fillers=frozenset({"嗯", "那个"}),
    service_lines={"legal_aid": {"法律援助": 3.0}, "mediation": {"调解": 2.0}},
    flags=FlagRules(
        crisis=frozenset({"自杀", "打人"}),
        negators=frozenset({"没有"}),
        collective=frozenset({"群体讨薪"}),
        collective_nouns=("工人",),
        collective_min_people=10,
    ),
    min_confidence=0.5,
    min_evidence=1.5,
)
PLACES = [
    Place("510000", "四川省中心", "province", None, ("四川",)),
    Place("512022", "乐至县中心", "county", "510000", ("乐至县", "乐至")),
    Place("512022106", "劳动镇工作站", "township", "512022", ("劳动镇", "劳动")),
    Place("512022001", "天池街道工作站", "township", "512022", ("天池",)),
    Place("512022001203", "龙溪村工作室", "village", "512022001", ("龙溪村",)),
    Place("512021", "安岳县中心", "county", "510000", ("安岳县", "安岳")),
    Place("512021009", "某镇工作站", "township", "512021", ("某镇",)),
    Place("512021009203", "龙溪村工作室", "village", "512021009", ("龙溪村",)),  # the same name twice
]
INDEX = PlaceIndex(PLACES, "510000", cues=("在", "住在"), common_words=("劳动",), origin_words=("老家",))
REGIONS = {"13800000001": "四川省乐至县", "13800000002": "青海省西宁市", "13800000003": "四川省乐至县、安岳县"}


WORDS = (
    RULES.vocabulary() | INDEX.vocabulary() | {"拖欠", "一直", "只是", "骂人", "旅游", "受伤", "现在", "交界", "这边"}
)
LONGEST = max(map(len, WORDS))


def segment(text: str) -> Sequence[str]:
    """Longest dictionary word first, else one character: jieba's behaviour on these texts."""
    tokens, i = [], 0
    while i < len(text):
        size = next((n for n in range(LONGEST, 1, -1) if text[i : i + n] in WORDS), 1)
        tokens.append(text[i : i + size])
        i += size
    return tokens


ROUTER = KeywordRouter(RULES, INDEX, segment, REGIONS.get)


def route(text: str, number: str | None = None, division: str | None = None) -> dict:
    return ROUTER.route(text, number, division).to_dict()


# -- category ---------------------------------------------------------------------------------


def test_keywords_decide_the_category_and_are_listed_strongest_first() -> None:
    d = route("老板 拖欠 工资 怎么办")
    assert d["category"] == "劳动争议" and not d["needs_triage"] and d["rule"] == "keywords"
    assert [k["word"] for k in d["keywords"]] == ["工资", "老板"]
    assert d["confidence"] > 0.5 and "工资(+2)" in d["explanation"]


def test_synonyms_count_as_the_word_they_stand_for() -> None:
    d = route("我 老公 要 离婚")
    assert d["category"] == "婚姻家庭"
    assert {k["word"] for k in d["keywords"]} == {"离婚", "丈夫"}


def test_a_phrase_counts_only_with_its_words_in_order_and_near() -> None:
    near = route("工资 一直 不给")
    assert any(k["word"] == "工资 不给" for k in near["keywords"])
    assert near["subcategory"] == "农民工讨薪"
    far = route("工资 " + "啊 " * 10 + "不给")
    assert all(k["word"] != "工资 不给" for k in far["keywords"])
    reversed_order = route("不给 工资")
    assert all(k["word"] != "工资 不给" for k in reversed_order["keywords"])


def test_equal_subcategory_scores_go_to_the_one_listed_first_whatever_the_words_order() -> None:
    # Forty pairs of subcategories tied on one word each: taken in the set's (hash) order, about
    # half the pairs would go to the second one, and differently in another process.
    pairs = [(f"a{i}", f"b{i}") for i in range(40)]  # Latin words: the spaces between them stay
    labour = CategoryRules(
        "劳动争议",
        "consultation",
        keywords={"工资": 2.0},
        subcategories={f"先{i}": {a: 1.0} for i, (a, _) in enumerate(pairs)}
        | {f"后{i}": {b: 1.0} for i, (_, b) in enumerate(pairs)},
    )
    rules = RoutingRules(
        categories=(labour, OTHER), synonyms={}, fillers=frozenset(), service_lines={}, flags=RULES.flags
    )
    router = KeywordRouter(rules, INDEX, str.split)
    for i, (a, b) in enumerate(pairs):
        for text in (f"工资 {a} {b}", f"工资 {b} {a}"):
            assert router.route(text).classification.subcategory == f"先{i}", text


def test_fillers_do_not_break_phrases() -> None:
    d = route("工资 嗯 那个 嗯 那个 嗯 那个 嗯 不给")
    assert any(k["word"] == "工资 不给" for k in d["keywords"])


def test_a_negative_keyword_pulls_away_from_a_category() -> None:
    d = route("借 工资 还钱")
    assert d["category"] == "债权债务"


def test_without_keywords_it_asks_for_triage_and_still_suggests() -> None:
    d = route("你好 请问 一下")
    assert d["category"] == "needs_triage" and d["needs_triage"] and d["rule"] == "no_keywords"
    assert d["suggested_category"] == "其他" and d["subcategory"] is None
    assert "转人工" in d["explanation"]


def test_close_scores_ask_for_triage_instead_of_guessing() -> None:
    d = route("工资 还钱")
    assert d["needs_triage"] and d["rule"] == "low_confidence"
    assert d["alternatives"][0]["category"] in {"劳动争议", "债权债务"}


def test_weak_evidence_asks_for_triage() -> None:
    # 老板 alone: the category is clear but one weak word is not enough to decide.
    d = route("老板")
    assert d["needs_triage"] and d["rule"] == "too_little_evidence" and d["suggested_category"] == "劳动争议"


def test_words_match_whole_tokens_or_runs_of_tokens_never_inside_one() -> None:
    matcher = WordMatcher({"抚养费", "劳动"}, {})
    assert [m.word for m in matcher.find(["抚养", "费"])] == ["抚养费"]
    assert matcher.find(["劳动合同"]) == []


def test_the_longest_word_wins_and_matches_never_overlap() -> None:
    matcher = WordMatcher({"工资", "工资单", "单位", "拖欠"}, {"工钱": "工资"})
    found = matcher.find(["拖欠", "工资", "单", "位", "工钱", "单位"])
    assert [(m.word, m.surface, m.start, m.end) for m in found] == [
        ("拖欠", "拖欠", 0, 1),
        ("工资单", "工资单", 1, 3),  # 单 goes to the longer word, so 单位 cannot start inside it
        ("工资", "工钱", 4, 5),
        ("单位", "单位", 5, 6),
    ]
    assert matcher.find(["工", "资"]) == [Match("工资", "工资", 0, 2)]
    assert matcher.find(["工资单位"]) == []  # inside one token: never


def test_service_line_follows_the_category_unless_a_service_word_is_said() -> None:
    assert route("离婚 抚养费")["service_line"] == "consultation"
    d = route("离婚 抚养费 想 申请 法律援助")
    assert d["service_line"] == "legal_aid" and d["service_line_rule"] == "keywords"
    assert d["service_line_keywords"] == [{"word": "法律援助", "weight": 3.0}]


# -- flags ------------------------------------------------------------------------------------


def test_crisis_words_make_it_urgent_and_alert_supervisors() -> None:
    d = route("他 打人 还 说 要 自杀")
    assert d["flags"] == ["crisis"] and d["priority"] == "urgent" and d["alert"]
    assert d["flag_words"]["crisis"] == ["打人", "自杀"]


def test_a_negated_crisis_word_does_not_count() -> None:
    d = route("他 没有 打人 只是 骂人")
    assert d["flags"] == [] and d["priority"] == "normal" and not d["alert"]


def test_collective_matters_are_flagged_sensitive_by_word_or_by_head_count() -> None:
    assert route("群体讨薪")["flags"] == ["collective", "sensitive"]
    d = route("我们 二十 多 个 工人 的 工资")
    assert d["flags"] == ["collective", "sensitive"] and d["priority"] == "high" and not d["alert"]
    assert d["flag_words"]["collective"] == ["二十多个工人"]
    assert route("我们 三 个 工人 的 工资")["flags"] == []


# -- places -----------------------------------------------------------------------------------


def station(text: str, number: str | None = None, division: str | None = None) -> tuple[str, str]:
    s = route(text, number, division)["station"]
    return s["code"], s["rule"]


def test_the_most_specific_place_in_the_text_wins() -> None:
    assert station("我 在 乐至县 天池 龙溪村") == ("512022001203", "text")
    assert station("四川 乐至") == ("512022", "text")


def test_a_shared_name_is_settled_by_the_other_places_named() -> None:
    assert station("安岳县 龙溪村") == ("512021009203", "text")
    assert station("乐至 龙溪村") == ("512022001203", "text")


def test_a_shared_name_is_settled_by_the_callers_area_else_goes_to_the_common_parent() -> None:
    assert station("龙溪村", division="512021") == ("512021009203", "text")
    assert station("龙溪村", number="13800000001") == ("512022001203", "text")
    code, rule = station("龙溪村")
    assert (code, rule) == ("510000", "text")
    assert "龙溪村" in route("龙溪村")["station"]["explanation"]


def test_short_forms_need_a_cue_and_everyday_words_their_county() -> None:
    assert station("天池 旅游")[1] == "default"
    assert station("住在 天池") == ("512022001", "text")
    assert station("在 劳动 中 受伤")[1] == "default"
    assert station("乐至 劳动 这边") == ("512022106", "text")
    assert station("劳动镇") == ("512022106", "text")


def test_between_equally_specific_places_the_origin_loses() -> None:
    assert station("老家 乐至 现在 在 安岳") == ("512021", "text")
    assert station("乐至 和 安岳 交界") == ("512022", "text")


def test_then_the_callers_record_then_the_number_then_the_default() -> None:
    assert station("工资", division="512022001203", number="13800000003") == ("512022001203", "caller_record")
    assert station("工资", division="512022001999") == ("512022001", "caller_record")  # nearest above
    assert station("工资", division="99", number="13800000001") == ("512022", "phone_region")
    assert station("工资", number="13800000003") == ("510000", "phone_region")  # two counties: their parent
    code, rule = station("工资", number="13800000002")
    assert (code, rule) == ("510000", "default")
    assert "青海省西宁市" in route("工资", "13800000002")["station"]["explanation"]
    assert station("工资") == ("510000", "default")


def test_the_explanation_never_contains_the_callers_number() -> None:
    assert "13800000001" not in str(route("工资", number="13800000001"))


def test_a_default_station_outside_the_directory_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the directory"):
        PlaceIndex(PLACES, "999999")


def test_a_text_naming_places_thousands_of_times_is_still_placed() -> None:
    assert station("龙溪村 " * 3000 + "安岳县")[1] == "text"
