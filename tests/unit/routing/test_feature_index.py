"""The router scores a question from integer lookups (FeatureIndex); training counts the feature
strings of `text_features`. Both must find the same vocabulary columns, or the model would score
questions differently from how it learned them."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketing.domain.routing import KeywordRouter
from ticketing.domain.routing.features import text_features
from ticketing.domain.routing.matching import Match
from ticketing.routing.feature_index import FeatureIndex

TEXTS = [
    "公司拖欠工资三个月，老板不给钱怎么办",
    "我老公打我，我想离婚，孩子抚养费怎么算",
    "邻居占了我家宅基地 c#语言 #12号 a|b @某人 工资|不给",
    "工资工资工资，不给不给",  # repeated words, pairs and character pairs
    "交通事故 对方全责 保险公司不赔",
]
#: Characters that make awkward tokens: the feature markers themselves, Latin, digits, blanks.
ALPHABET = "工资不给老板公司#|@ab1 　我离婚"


def columns_by_string(vocabulary: dict[str, int], tokens: list[str], matches: list[Match]) -> Counter[int]:
    return Counter(vocabulary[f] for f in text_features(tokens, matches) if f in vocabulary)


def vocabulary_of(router: KeywordRouter, texts: list[str]) -> dict[str, int]:
    names: set[str] = set()
    for text in texts:
        _, _, tokens, matches = router.analyse(text)
        names.update(text_features(tokens, matches))
    return {name: i for i, name in enumerate(sorted(names))}


def test_columns_are_those_of_the_feature_strings(router: KeywordRouter) -> None:
    vocabulary = vocabulary_of(router, TEXTS)
    index = FeatureIndex(vocabulary)
    for text in [*TEXTS, "老板不给工资", "c#工资@|", "完全无关的句子"]:
        _, _, tokens, matches = router.analyse(text)
        assert Counter(index.columns(tokens, matches)) == columns_by_string(vocabulary, tokens, matches), text


def test_a_partial_vocabulary_finds_only_what_it_knows(router: KeywordRouter) -> None:
    full = vocabulary_of(router, TEXTS)
    # Every third feature: words without their pairs, pairs without their words, and so on.
    partial = {name: i for i, name in enumerate(sorted(full)[::3])}
    index = FeatureIndex(partial)
    for text in TEXTS:
        _, _, tokens, matches = router.analyse(text)
        assert Counter(index.columns(tokens, matches)) == columns_by_string(partial, tokens, matches), text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=4), min_size=1, max_size=12))
def test_any_segmentation_gives_the_same_columns(router: KeywordRouter, tokens: list[str]) -> None:
    """Tokens as any segmenter might make them (blanks, markers and repeats included)."""
    vocabulary = vocabulary_of(router, TEXTS)
    shaped_like_features = {t for t in tokens if len(t) > 1 and (t[0] in "@#" or "|" in t)}
    tokens = [t for t in tokens if t not in shaped_like_features]  # jieba never makes these (see the module)
    index = FeatureIndex(vocabulary)
    matches = router.words.find([t for t in tokens if t.strip()])
    assert Counter(index.columns(tokens, matches)) == columns_by_string(vocabulary, tokens, matches)
