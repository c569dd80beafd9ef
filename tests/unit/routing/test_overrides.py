"""Rural land, service-line and domestic-violence questions go where a legal-aid worker would send
them, with or without a learned model (the sentences are ours)."""

from __future__ import annotations

import pytest

from ticketing.domain.routing import KeywordRouter

CASES = [
    ("邻居占了我家宅基地", "房产纠纷", "宅基地", "consultation"),
    ("宅基地被邻居占了怎么办", "房产纠纷", "宅基地", "consultation"),
    ("村里要征收我家的承包地，补偿太少", "拆迁安置", "征地补偿", "consultation"),
    ("我家的耕地被征用了补偿款没给", "拆迁安置", "征地补偿", "consultation"),
    ("土地流转合同到期了对方不还地", "合同纠纷", None, "consultation"),
    ("公证处周末上班吗", "其他", None, "notary"),
    ("公证处的地址在哪", "其他", None, "notary"),
    ("法律援助中心在哪里，几点上班", "其他", None, "legal_aid"),
    ("老公天天打我", "婚姻家庭", "家庭暴力", "consultation"),
    ("男朋友喝了酒就打我", "婚姻家庭", "家庭暴力", "consultation"),
    ("婆婆一直虐待我", "婚姻家庭", "家庭暴力", "consultation"),
    ("我被家暴了怎么办", "婚姻家庭", "家庭暴力", "consultation"),
]


@pytest.mark.parametrize(("text", "category", "subcategory", "line"), CASES)
def test_rural_land_and_service_questions(
    router: KeywordRouter, text: str, category: str, subcategory: str | None, line: str
) -> None:
    c = router.route(text).classification
    assert (c.category, c.subcategory, c.service_line) == (category, subcategory, line)
    assert not c.needs_triage and c.reason.startswith("rule:")
    assert c.evidence  # the words that made the rule apply


def test_an_override_is_not_a_crisis_filter(router: KeywordRouter) -> None:
    decision = router.route("邻居占了我家宅基地，还拿刀威胁我")
    assert decision.category == "房产纠纷" and decision.crisis


@pytest.mark.parametrize("text", ["他打我丈夫怎么办", "我老公被人打了", "同事打我"])
def test_a_family_member_must_come_before_the_blow(router: KeywordRouter, text: str) -> None:
    """家人打我 needs a family member named before 打我/虐待: here someone else struck."""
    assert router.route(text).classification.reason != "rule:家人打我"


def test_domestic_violence_is_a_family_matter_and_a_crisis(router: KeywordRouter) -> None:
    decision = router.route("我老公打我")
    assert decision.category == "婚姻家庭" and decision.crisis
    assert decision.explanation().startswith("危机情形 CRISIS")
