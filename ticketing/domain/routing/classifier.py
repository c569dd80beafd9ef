"""Category, subcategory and service line from weighted keywords, with the words that decided.

Each category's score is its bias plus the weights of the distinct rule words found in the text
(phrases count when all their words are near each other). Scores become probabilities through a
softmax; when the best one is too unsure, or too little evidence was found, the matter goes to
manual triage with the best guess as a suggestion instead of a guess passed off as a decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ticketing.domain.routing.matching import Match, groups_in_order, phrase_found
from ticketing.domain.routing.rules import RoutingRules, Weights


class Evidence(NamedTuple):
    word: str  # a keyword, or a phrase with its words separated by spaces
    weight: float


class TopicOpinion(NamedTuple):
    """What a learned topic model says of a text (see ticketing/routing/model.py)."""

    ranked: tuple[tuple[str, float], ...]  # categories with calibrated probabilities, best first
    confidence: float  # the calibrated chance that the best one is right
    evidence: tuple[Evidence, ...]  # the words that pushed the best one, strongest first
    threshold: float  # below this confidence the matter goes to triage
    version: str


class Classification(NamedTuple):
    category: str  # the best category, decided or suggested
    confidence: float
    needs_triage: bool
    reason: str  # model | keywords | low_confidence | too_little_evidence | no_keywords
    evidence: tuple[Evidence, ...]  # what counted for `category`, strongest first
    subcategory: str | None
    subcategory_evidence: tuple[Evidence, ...]
    service_line: str
    service_line_rule: str  # category | keywords
    service_line_evidence: tuple[Evidence, ...]
    alternatives: tuple[tuple[str, float], ...]  # next best categories with their probabilities
    model: str | None = None  # the version of the learned model that decided, None for the rules alone
    rule_evidence: tuple[Evidence, ...] = ()  # with a model: the rule keywords found for `category`


class _WeightIndex:
    """word -> [(option, weight)] for a set of weighted options, so scoring visits only the words
    found; phrases are checked apart."""

    def __init__(self, options: Mapping[str, Weights]) -> None:
        self.words: dict[str, list[tuple[str, float]]] = {}
        #: option -> its single words and their weights, to collect one option's evidence.
        self.option_words: dict[str, dict[str, float]] = {option: {} for option in options}
        #: Equal scores go to the option listed first, whatever order the words come in.
        self.order = {option: i for i, option in enumerate(options)}
        #: Phrases by their first word, so only phrases that can start in the text are checked.
        self.phrases: dict[str, list[tuple[str, str, tuple[str, ...], float]]] = {}
        for option, weights in options.items():
            for word, weight in weights.items():
                if " " in word:
                    parts = tuple(word.split())
                    self.phrases.setdefault(parts[0], []).append((option, word, parts, weight))
                else:
                    self.words.setdefault(word, []).append((option, weight))
                    self.option_words[option][word] = weight
        #: Every word that can count for some option: most texts share none with a small index.
        self.vocabulary = frozenset(self.words) | {
            p for phrases in self.phrases.values() for _, _, parts, _ in phrases for p in parts
        }

    def evidence(self, words: set[str], matches: Sequence[Match], window: int) -> dict[str, list[tuple[str, float]]]:
        """option -> [(word, weight)] for the words found (plain tuples: this runs per question)."""
        found: dict[str, list[tuple[str, float]]] = {}
        index = self.words
        for word in words:
            for option, weight in index.get(word, ()):
                if option in found:
                    found[option].append((word, weight))
                else:
                    found[option] = [(word, weight)]
        for first in self.phrases.keys() & words:
            for option, phrase, parts, weight in self.phrases[first]:
                if all(p in words for p in parts) and phrase_found(parts, matches, window):
                    found.setdefault(option, []).append((phrase, weight))
        return found

    def scores(self, words: set[str], matches: Sequence[Match], window: int) -> dict[str, float]:
        """option -> summed weight of the words and phrases found, for the options any touch
        (added in the words' order, so equal scores stay equal whatever order the set has)."""
        scores: dict[str, float] = {}
        index = self.words
        for word in sorted(words):
            for option, weight in index.get(word, ()):
                scores[option] = scores.get(option, 0.0) + weight
        for first in sorted(self.phrases.keys() & words):
            for option, _phrase, parts, weight in self.phrases[first]:
                if all(p in words for p in parts) and phrase_found(parts, matches, window):
                    scores[option] = scores.get(option, 0.0) + weight
        return scores

    def evidence_of(
        self, target: str, words: set[str], matches: Sequence[Match], window: int
    ) -> list[tuple[str, float]]:
        """[(word, weight)] found for one option."""
        weights = self.option_words[target]
        found = [(word, weights[word]) for word in words if word in weights]
        for first in self.phrases.keys() & words:
            for option, phrase, parts, weight in self.phrases[first]:
                if option == target and all(p in words for p in parts) and phrase_found(parts, matches, window):
                    found.append((phrase, weight))
        return found

    def best(self, words: set[str], matches: Sequence[Match], window: int) -> tuple[str | None, tuple[Evidence, ...]]:
        """The option with the highest positive score, if any, and its evidence."""
        if self.vocabulary.isdisjoint(words):
            return None, ()
        order = self.order
        best: tuple[str | None, float, list[tuple[str, float]]] = (None, 0.0, [])
        for option, found in self.evidence(words, matches, window).items():
            score = sum(sorted(weight for _, weight in found))  # the same sum in any order of words
            if score > best[1] or (score == best[1] and best[0] is not None and order[option] < order[best[0]]):
                best = (option, score, found)
        return best[0], _strongest_first(best[2])


def _strongest_first(found: list[tuple[str, float]]) -> tuple[Evidence, ...]:
    return tuple([Evidence(word, weight) for word, weight in sorted(found, key=_by_weight_then_word)])


def _by_weight_then_word(e: tuple[str, float]) -> tuple[float, str]:
    return -e[1], e[0]


class KeywordClassifier:
    def __init__(self, rules: RoutingRules) -> None:
        self.rules = rules
        self._categories = _WeightIndex({c.name: c.keywords for c in rules.categories})
        self._subcategories = {c.name: _WeightIndex(c.subcategories) for c in rules.categories}
        self._lines = _WeightIndex(rules.service_lines)
        self._bias = {c.name: c.bias for c in rules.categories}
        self._order = {c.name: i for i, c in enumerate(rules.categories)}
        self._default_line = {c.name: c.service_line for c in rules.categories}
        # Most categories get no keyword in a given text: their share of the softmax only depends
        # on their bias, so it is computed once here (exp(bias / T), highest bias first).
        t = rules.temperature
        self._by_bias = sorted(self._bias, key=lambda n: (-self._bias[n], self._order[n]))
        self._exp_bias = {n: math.exp(b / t) for n, b in self._bias.items()}
        self._exp_bias_total = sum(self._exp_bias.values())
        # An override needs a word of each of its groups, so of its first: most texts have none.
        # (A rule without groups always applies: then every text is checked.)
        firsts = [rule.groups[0] for rule in rules.overrides if rule.groups]
        complete = len(firsts) == len(rules.overrides)
        self._override_words: frozenset[str] | None = frozenset().union(*firsts) if complete else None

    def categories(self) -> set[str]:
        return set(self._bias)

    def override(self, matches: Sequence[Match], words: set[str] | None = None) -> Classification | None:
        """The first override whose every group has a word in the text, as a decision (`words`:
        the matches' words, when the caller has them already)."""
        if words is None:
            words = {m.word for m in matches}
        if self._override_words is not None and self._override_words.isdisjoint(words):
            return None
        for rule in self.rules.overrides:
            if all(not group.isdisjoint(words) for group in rule.groups) and (
                not rule.in_order or groups_in_order(rule.groups, matches, self.rules.phrase_window)
            ):
                found = tuple(Evidence(w, 1.0) for group in rule.groups for w in sorted(group & words))
                default_line = self._default_line[rule.category]
                return Classification(
                    category=rule.category,
                    confidence=1.0,
                    needs_triage=False,
                    reason=f"rule:{rule.name}",
                    evidence=found,
                    subcategory=rule.subcategory,
                    subcategory_evidence=found if rule.subcategory else (),
                    service_line=rule.service_line or default_line,
                    service_line_rule="keywords" if rule.service_line else "category",
                    service_line_evidence=found if rule.service_line else (),
                    alternatives=(),
                )
        return None

    def classify(self, matches: Sequence[Match], opinion: TopicOpinion | None = None) -> Classification:
        words = {m.word for m in matches}
        ruled = self.override(matches, words)
        if ruled is not None:
            return ruled
        if opinion is not None:
            return self._with_model(matches, words, opinion)
        rules = self.rules
        window = rules.phrase_window
        bias, order, t = self._bias, self._order, rules.temperature
        scores = self._categories.scores(words, matches, window)
        for name in scores:
            scores[name] += bias[name]
        # The best four: the touched categories and the four untouched ones with the highest bias.
        ranking = [(-score, order[name], name) for name, score in scores.items()]
        ranking += [(-bias[n], order[n], n) for n in self._by_bias[: len(scores) + 4] if n not in scores][:4]
        ranking.sort()
        ranked = [name for _, _, name in ranking[:4]]
        top = ranked[0]
        peak = -ranking[0][0]
        shares = {name: math.exp((score - peak) / t) for name, score in scores.items()}
        rest = self._exp_bias_total - sum(self._exp_bias[n] for n in scores)
        total = sum(shares.values()) + max(rest, 0.0) * math.exp(-peak / t)

        def share(name: str) -> float:
            value = shares[name] if name in shares else math.exp((bias[name] - peak) / t)
            return value / total

        confidence = share(top)
        found = _strongest_first([e for e in self._categories.evidence_of(top, words, matches, window) if e[1] > 0])
        if not scores:
            reason = "no_keywords"
        elif sum(e.weight for e in found) < rules.min_evidence:
            reason = "too_little_evidence"
        elif confidence < rules.min_confidence:
            reason = "low_confidence"
        else:
            reason = "keywords"
        sub, sub_evidence = self._subcategories[top].best(words, matches, window)
        line, line_evidence = self._lines.best(words, matches, window)
        default_line = self._default_line[top]
        return Classification(
            category=top,
            confidence=round(confidence, 3),
            needs_triage=reason != "keywords",
            reason=reason,
            evidence=found,
            subcategory=sub,
            subcategory_evidence=sub_evidence,
            service_line=line or default_line,
            service_line_rule="keywords" if line else "category",
            service_line_evidence=line_evidence,
            alternatives=tuple((name, round(share(name), 3)) for name in ranked[1:4]),
        )

    def _with_model(self, matches: Sequence[Match], words: set[str], opinion: TopicOpinion) -> Classification:
        """The model chooses the category and its confidence; the rules add the subcategory, the
        service line and the keywords they found, which stay the explanation people know."""
        window = self.rules.phrase_window
        top, confidence = opinion.ranked[0][0], opinion.confidence
        found = _strongest_first([e for e in self._categories.evidence_of(top, words, matches, window) if e[1] > 0])
        sub, sub_evidence = self._subcategories[top].best(words, matches, window)
        line, line_evidence = self._lines.best(words, matches, window)
        unsure = confidence < opinion.threshold
        return Classification(
            category=top,
            confidence=confidence,
            needs_triage=unsure,
            reason="low_confidence" if unsure else "model",
            evidence=opinion.evidence,
            subcategory=sub,
            subcategory_evidence=sub_evidence,
            service_line=line or self._default_line[top],
            service_line_rule="keywords" if line else "category",
            service_line_evidence=line_evidence,
            alternatives=opinion.ranked[1:4],
            model=opinion.version,
            rule_evidence=found,
        )
