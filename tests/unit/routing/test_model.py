"""The learned topic model: trained on a small set written for the test, it decides with calibrated
probabilities and names the words that pushed it; stored and loaded, it decides the same."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.routing.synthetic import SIGNS, questions
from ticketing.domain.errors import UnroutableText
from ticketing.domain.routing import KeywordRouter
from ticketing.domain.routing.features import text_features
from ticketing.routing.model import TopicModel, confidence, rounded, threshold_for
from ticketing.routing.training import (
    Example,
    calibrate,
    cross_validate,
    fit,
    fit_reliability,
    model_contender,
    stratified_folds,
)


def examples(router: KeywordRouter, per_category: int = 20, seed: int = 7) -> list[Example]:
    out = []
    for text, category in questions(per_category, seed):
        _, _, tokens, matches = router.analyse(text)
        out.append(Example(text_features(tokens, matches), category))
    return out


@pytest.fixture(scope="module")
def model(router: KeywordRouter) -> TopicModel:
    return fit(examples(router), target_precision=0.9, version="test-1")


def test_the_model_learns_what_the_rules_do_not_know(router: KeywordRouter, model: TopicModel) -> None:
    text = "请问，家里的红色风筝和长颈鹿的事情怎么办"
    assert router.route(text).classification.model is None  # the rules alone
    router.use_model(model)
    try:
        decision = router.route(text)
    finally:
        router.use_model(None)
    c = decision.classification
    assert c.category == "劳动争议" and c.model == "test-1" and c.reason == "model"
    assert not c.needs_triage and c.confidence >= model.threshold
    shown = {e.word for e in c.evidence}
    assert shown & {"红色", "风筝", "长颈鹿", "红色 风筝", "红色风筝"}, shown
    payload = decision.to_dict()
    assert payload["model"] == "test-1" and payload["keywords"] and "模型 test-1" in payload["explanation"]


def test_the_words_shown_are_words_of_the_text(router: KeywordRouter, model: TopicModel) -> None:
    """Pairs of characters push the decision, but one is shown only when the model also knows it as
    a word: what a lawyer reads is words, pairs of them and the rule words found."""
    assert any(name.startswith("#") for name in model.feature_names())  # the model has fragments
    for text, _ in questions(10, seed=3):
        _, _, tokens, matches = router.analyse(text)
        readable_words = set(tokens) | {m.word for m in matches} | set(model.vocabulary)
        readable_words |= {f"{a} {b}" for a, b in pairwise(tokens)}
        opinion = model.opinion(tokens, matches)
        assert opinion.evidence
        for e in opinion.evidence:
            assert e.word in readable_words, (text, e.word)  # 大熊 of 大熊猫 was shown before


def test_probabilities_are_a_distribution_and_storage_keeps_decisions(router: KeywordRouter, model: TopicModel) -> None:
    docs = [e.features for e in examples(router, 5, seed=99)]
    p = model.probabilities_batch(docs)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    single = np.array([model.probabilities(d) for d in docs])
    assert np.allclose(single, p, atol=1e-5)
    again = TopicModel.from_bytes(model.to_bytes())
    assert again.version == "test-1" and again.classes == model.classes
    assert again.threshold == pytest.approx(model.threshold)
    assert np.allclose(again.probabilities_batch(docs), p, atol=1e-5)


def test_a_higher_target_precision_never_lowers_the_threshold(model: TopicModel) -> None:
    assert model.with_target(0.99).threshold >= model.with_target(0.6).threshold


def test_threshold_for_a_target_precision() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, False, True, False])
    assert threshold_for(confidence, correct, 1.0) == (0.8, 0.4)
    assert threshold_for(confidence, correct, 0.75) == (0.6, 0.8)
    threshold, coverage = threshold_for(confidence, np.zeros(5, dtype=bool), 0.9)
    assert threshold > 1 and coverage == 0.0


def test_calibration_learns_how_sure_to_be() -> None:
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 600)
    scores = rng.normal(0, 1, (600, 3))
    scores[np.arange(600), gold] += 1.0  # informative, but 10x overconfident when scaled by 10
    scale, offset = calibrate(scores * 10, gold, 3)
    assert 0.05 < scale < 0.3 and np.all(np.abs(offset) < 1)


def test_the_confidence_learns_which_choices_to_trust() -> None:
    """At the same probability, choices of category 0 were right 90 % of the time and those of
    category 1 half the time; a wider lead over the next category was right more often."""
    rng = np.random.default_rng(1)
    n = 4000
    chosen = rng.integers(0, 2, n)
    top = rng.uniform(0.4, 0.9, n)
    log_p = np.log(np.column_stack([np.where(chosen == 0, top, 1 - top), np.where(chosen == 1, top, 1 - top)]))
    lead = np.abs(np.log(top) - np.log(1 - top))
    correct = rng.random(n) < np.where(chosen == 0, 0.9, 0.5) * (0.8 + 0.2 * lead / lead.max())
    weights = fit_reliability(log_p, chosen, correct)
    assert weights is not None and len(weights) == 4
    same = np.log(np.array([[0.7, 0.3], [0.3, 0.7]]))
    sure_of = confidence(same, np.array([0, 1]), weights)
    # Right 0.9 * (0.8 + 0.2 * 0.85 / 2.2) = 0.79 and 0.5 * 0.88 = 0.44 of the time at p = 0.7.
    assert sure_of == pytest.approx([0.79, 0.44], abs=0.05)
    for k in (0, 1):
        picked = chosen == k
        assert confidence(log_p[picked], chosen[picked], weights).mean() == pytest.approx(
            correct[picked].mean(), abs=0.03
        )
    wide, narrow = np.log(np.array([[0.9, 0.1]])), np.log(np.array([[0.55, 0.45]]))
    assert confidence(wide, np.array([0]), weights)[0] > confidence(narrow, np.array([0]), weights)[0]
    # Nothing to learn when every held-out choice was right: the confidence is p of the choice.
    assert fit_reliability(log_p, chosen, np.ones(n, dtype=bool)) is None
    assert confidence(same, np.array([0, 1]), None) == pytest.approx([0.7, 0.7])


def test_the_router_shows_the_same_confidence_as_batch_scoring(router: KeywordRouter, model: TopicModel) -> None:
    """The router (one text) and batch scoring (benchmarks, thresholds) read the confidence the
    same way, stored and loaded too, and a model stored without it still loads (p of the choice)."""
    trusting = replace(model, reliability=np.array([1.0, 0.5] + [0.2] * len(model.classes)))
    stored = TopicModel.from_bytes(trusting.to_bytes())
    assert stored.reliability is not None and np.allclose(stored.reliability, trusting.reliability)
    legacy = replace(model, reliability=None)
    for text, _ in questions(3, seed=5):
        _, _, tokens, matches = router.analyse(text)
        features = text_features(tokens, matches)
        for m in (stored, TopicModel.from_bytes(legacy.to_bytes())):
            opinion = m.opinion(tokens, matches)
            chosen, sure = m.predict_batch([features])
            assert opinion.ranked[0][0] == chosen[0] and opinion.confidence == pytest.approx(sure[0], abs=1e-3)
        assert (
            TopicModel.from_bytes(legacy.to_bytes()).opinion(tokens, matches).confidence
            == (legacy.opinion(tokens, matches).ranked[0][1])
        )


def test_folds_are_stratified_and_cover_every_row() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 2
    fold = stratified_folds(labels, 5, seed=1)
    assert sorted(set(fold.tolist())) == [0, 1, 2, 3, 4]
    for k in range(5):
        assert [labels[i] for i in np.nonzero(fold == k)[0]].count("a") == 2


def test_cross_validation_fits_inside_the_training_folds(router: KeywordRouter) -> None:
    data = examples(router, 12)
    seen: list[tuple[set[int], set[int]]] = []
    inner = model_contender(data, 0.9)

    def spy(train: np.ndarray, test: np.ndarray):  # type: ignore[no-untyped-def]
        seen.append((set(train.tolist()), set(test.tolist())))
        return inner(train, test)

    results = cross_validate(data, {"model": spy}, folds=3, repeats=2, labels=sorted(SIGNS))
    assert len(results["model"]) == 6
    assert all(not (train & test) for train, test in seen)
    assert all(r["accuracy"] > 0.8 for r in results["model"])


@pytest.mark.parametrize("text", ["", "   ", "？？？！！。。", "嗯嗯嗯", "\u200b\u200b", "123 456", "<p></p>"])
def test_empty_or_meaningless_text_is_refused(router: KeywordRouter, text: str) -> None:
    with pytest.raises(UnroutableText) as refused:
        router.route(text)
    assert "nothing to classify" in refused.value.message


def test_training_needs_two_categories(router: KeywordRouter) -> None:
    one = [e for e in examples(router, 5) if e.label == "婚姻家庭"]
    with pytest.raises(ValueError, match="two categories"):
        fit(one)


def test_overrides_and_crisis_come_first_with_a_model_too(router: KeywordRouter, model: TopicModel) -> None:
    router.use_model(model)
    try:
        land = router.route("邻居占了我家宅基地")
        crisis = router.route("请问，家里的红色风筝和长颈鹿的事情怎么办，我不想活了")
    finally:
        router.use_model(None)
    assert land.category == "房产纠纷" and land.classification.reason.startswith("rule:")
    assert crisis.classification.model == "test-1" and crisis.crisis
    assert crisis.explanation().startswith("危机情形 CRISIS")


def test_a_model_on_its_strongest_features_still_decides(
    router: KeywordRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With KEEP, training ranks the features by a first fit and keeps the strongest (inside each
    inner fold too); the router then scores with that smaller vocabulary, as batch scoring does."""
    import ticketing.routing.training as training

    data = examples(router)
    everything = fit(data)
    monkeypatch.setattr(training, "KEEP", 40)
    small = fit(data, version="small")
    assert len(small.vocabulary) == 40 < len(everything.vocabulary)
    right = 0
    for text, category in questions(5, seed=11):
        _, _, tokens, matches = router.analyse(text)
        opinion = small.opinion(tokens, matches)
        p = small.probabilities(text_features(tokens, matches))
        assert opinion.ranked[0][1] == pytest.approx(p[small.classes.index(opinion.ranked[0][0])], abs=1e-3)
        right += opinion.ranked[0][0] == category
    assert right >= 0.8 * 5 * len(SIGNS)


#: Halves and near-halves at 2 and 3 decimals, beside any float.
HALVES = st.sampled_from([0.005, 0.015, 0.125, 0.0005, 0.0015, 1.005, 2.675, 0.285, -0.0, 0.0, -0.001, 1e-9])


@given(x=st.one_of(HALVES, st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)))
def test_rounded_is_round(x: float) -> None:
    for digits in (2, 3):
        expected = round(x, digits)
        got = rounded(x, digits)
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)
