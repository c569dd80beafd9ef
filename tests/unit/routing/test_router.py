"""The router as configured (config/routing.yaml, jieba, phone areas) on questions and transcripts."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketing.domain.errors import UnroutableText
from ticketing.domain.routing import KeywordRouter
from ticketing.routing.segmenter import JiebaSegmenter

CATEGORIES = {
    "婚姻家庭", "劳动争议", "交通事故", "债权债务", "刑事", "合同纠纷", "房产纠纷", "侵权", "公司", "医疗纠纷",
    "拆迁安置", "行政", "建设工程", "消费", "知识产权", "其他",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("老板拖欠了我三个月工资一直不给，我该怎么办？", "劳动争议"),
        ("在厂里上班的时候手指被机器压断了，算不算工伤", "劳动争议"),
        ("我想和老公离婚，孩子的抚养权归谁", "婚姻家庭"),
        ("骑电动车被小轿车撞了，交警认定对方全责，保险公司不赔", "交通事故"),
        ("朋友借了我五万块钱打了借条，现在一直不还", "债权债务"),
        ("我弟弟因为盗窃被刑事拘留了，会判几年", "刑事"),
        ("村里要征地拆迁，补偿款太低了", "拆迁安置"),
    ],
)
def test_everyday_questions_get_their_category(router: KeywordRouter, text: str, category: str) -> None:
    d = router.route(text).to_dict()
    assert d["suggested_category"] == category, d["explanation"]
    assert d["keywords"] and all(k["weight"] > 0 for k in d["keywords"])


def test_a_clear_question_is_decided_with_its_subcategory_and_explanation(router: KeywordRouter) -> None:
    d = router.route("在工地上干活摔伤了，老板不给申请工伤认定，也不给工资").to_dict()
    assert d["category"] == "劳动争议" and not d["needs_triage"]
    assert d["subcategory"] == "工伤"
    assert "工伤认定" in {k["word"] for k in d["keywords"]}
    assert d["explanation"].startswith(d["keywords"][0]["word"])


def test_a_greeting_goes_to_triage(router: KeywordRouter) -> None:
    d = router.route("喂，你好，听得到吗").to_dict()
    assert d["category"] == "needs_triage" and d["rule"] == "no_keywords"


def test_crisis_words_in_a_question_raise_an_alert(router: KeywordRouter) -> None:
    d = router.route("我老公经常家暴，昨天还拿刀威胁我，我真的不想活了").to_dict()
    assert d["priority"] == "urgent" and d["alert"] and d["flags"] == ["crisis"]
    assert {"家暴", "威胁", "不想活"} <= set(d["flag_words"]["crisis"])
    assert d["suggested_category"] == "婚姻家庭"


def test_collective_wage_claims_are_sensitive(router: KeywordRouter) -> None:
    for text in ("我们是群体讨薪，包工头跑了", "工地上二十多个农民工的工资被拖欠半年了"):
        d = router.route(text).to_dict()
        assert d["flags"] == ["collective", "sensitive"] and d["priority"] == "high", text


def test_a_transcript_is_routed_like_the_typed_question(router: KeywordRouter) -> None:
    typed = router.route("我在乐至县石佛镇打工，老板拖欠了我们三十几个工人的工资，怎么办？").to_dict()
    spoken = router.route(
        "喂 嗯 那个 我 在 乐至 县 石佛 镇 打工 嗯 老板 拖欠 了 我们 三十 几 个 工人 的 工资 就是说 怎么办"
    ).to_dict()
    for key in ("category", "subcategory", "service_line", "flags", "priority"):
        assert spoken[key] == typed[key], key
    assert spoken["station"]["code"] == typed["station"]["code"] == "512022101"


#: Nothing to read: refused with a clear error (issue 14), never classified.
EMPTY = ["", "   \n\t ", "。。。！！！？？？"]
HOSTILE = [
    "工资" * 100_000,
    "老板\x00拖欠\x07工资\x1b[31m\ufeff\u202e反向文字",
    "<script>alert('离婚')</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE tickets; -- 借钱不还 OR 1=1 /* */ UNION SELECT * FROM users",
    "😀🔥 離婚 ＡＢＣ \U0010ffff \ud7ff",
    "{{7*7}} ${jndi:ldap://x} %s%n %(x)s \\x00",
    "乐至" * 5000 + "劳动" * 5000,
    "安岳" * 2500 + "劳动" * 2500 + "龙溪村" * 2000,  # many places that do not fit together
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_classified_without_error(router: KeywordRouter, text: str) -> None:
    d = router.route(text, caller_number="13808080808' OR 1=1").to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["category"] in CATEGORIES | {"needs_triage"}
    assert d["station"]["code"]
    if len(text) > 20_000:
        assert d["truncated"]


@pytest.mark.parametrize("text", EMPTY, ids=range(len(EMPTY)))
def test_empty_text_is_refused(router: KeywordRouter, text: str) -> None:
    with pytest.raises(UnroutableText):
        router.route(text, caller_number="13808080808")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), number=st.one_of(st.none(), st.text(max_size=40)))
def test_any_text_and_number_give_a_decision_or_a_clear_refusal(
    router: KeywordRouter, text: str, number: str | None
) -> None:
    try:
        decision = router.route(text, caller_number=number)
    except UnroutableText as refused:
        assert "nothing to classify" in refused.message
        # Refused only when no Chinese character is in it (filler sounds aside).
        assert not re.search(r"[\u4e00-\u9fff]", re.sub("[嗯啊呃哦呀额嘛]", "", unicodedata.normalize("NFKC", text)))
        return
    d = decision.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert 0 <= d["confidence"] <= 1 and d["category"] in CATEGORIES | {"needs_triage"}


def assert_cut_as_jieba_cuts(router: KeywordRouter, text: str) -> None:
    segment = router.segment
    assert isinstance(segment, JiebaSegmenter)
    assert segment(text) == segment.tokenizer.lcut(text, HMM=False)


MIXED = st.text(
    alphabet=st.sampled_from(list("我在乐至县石佛镇打工老板拖欠工资离婚抚养费abcXYZ019 .%+-_#&，。\n\r\t")), max_size=60
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(MIXED, st.text(max_size=60)))
def test_the_fast_cut_gives_exactly_jiebas_tokens(router: KeywordRouter, text: str) -> None:
    assert_cut_as_jieba_cuts(router, text)


@pytest.mark.parametrize("text", ["拖拖拖b", "a费费费Z费板_X#婚", "县县县a佛", "谢谢谢谢谢谢你", "乐乐乐9我养资"])
def test_a_piece_repeated_three_times_is_cut_as_jieba_settles_the_tie(router: KeywordRouter, text: str) -> None:
    # 拖拖/拖 and 拖/拖拖 score exactly the same; jieba-rs would settle it the other way.
    assert_cut_as_jieba_cuts(router, text)


@pytest.mark.parametrize("text", ["县县县拖\U00020000-", "镇乐乐乐佛.a工\u3400资", "县县县拖\u9fd6", "县县县拖\uf900"])
def test_rare_ideographs_do_not_change_how_the_words_before_them_are_cut(router: KeywordRouter, text: str) -> None:
    # CJK ideographs jieba leaves outside its blocks and jieba-rs takes in (extension A and B,
    # compatibility, U+9FD6-U+9FFF): cut whole, jieba-rs would settle the tie 县县/县 the other way.
    assert_cut_as_jieba_cuts(router, text)
