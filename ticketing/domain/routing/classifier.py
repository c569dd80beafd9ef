"""Category, subcategory and service line from weighted keywords, with the words that decided.

Each category's score is its bias plus the weights of the distinct rule words found in the text
(phrases count when all their words are near each other). Scores become probabilities through a
softmax; when the best one is too unsure, or too little evidence was found, the matter goes to
manual triage with the best guess as a suggestion instead of a guess passed off as a decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ticketing.domain.routing.matching import Match, phrase_found
from ticketing.domain.routing.rules import RoutingRules, Weights


class Evidence(NamedTuple):
    word: str  # a keyword, or a phrase with its words separated by spaces
    weight: float


@dataclass(frozen=True)
class Classification:
    category: str  # the best category, decided or suggested
    confidence: float
    needs_triage: bool
    reason: str  # keywords | low_confidence | too_little_evidence | no_keywords
    evidence: tuple[Evidence, ...]  # what counted for `category`, strongest first
    subcategory: str | None
    subcategory_evidence: tuple[Evidence, ...]
    service_line: str
    service_line_rule: str  # category | keywords
    service_line_evidence: tuple[Evidence, ...]
    alternatives: tuple[tuple[str, float], ...]  # next best categories with their probabilities


class _WeightIndex:
    """word -> [(option, weight)] for a set of weighted options, so scoring visits only the words
    found; phrases are checked apart."""

    def __init__(self, options: Mapping[str, Weights]) -> None:
        self.words: dict[str, list[tuple[str, float]]] = {}
        self.phrases: list[tuple[str, str, tuple[str, ...], float]] = []
        for option, weights in options.items():
            for word, weight in weights.items():
                if " " in word:
                    self.phrases.append((option, word, tuple(word.split()), weight))
                else:
                    self.words.setdefault(word, []).append((option, weight))

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
        for option, phrase, parts, weight in self.phrases:
            if all(p in words for p in parts) and phrase_found(parts, matches, window):
                found.setdefault(option, []).append((phrase, weight))
        return found

    def best(self, words: set[str], matches: Sequence[Match], window: int) -> tuple[str | None, tuple[Evidence, ...]]:
        """The option with the highest positive score, if any, and its evidence."""
        best: tuple[str | None, float, list[tuple[str, float]]] = (None, 0.0, [])
        for option, found in self.evidence(words, matches, window).items():
            score = sum(weight for _, weight in found)
            if score > best[1]:
                best = (option, score, found)
        return best[0], _strongest_first(best[2])


def _strongest_first(found: list[tuple[str, float]]) -> tuple[Evidence, ...]:
    return tuple(Evidence(word, weight) for word, weight in sorted(found, key=lambda e: (-e[1], e[0])))


class KeywordClassifier:
    def __init__(self, rules: RoutingRules) -> None:
        self.rules = rules
        self._categories = _WeightIndex({c.name: c.keywords for c in rules.categories})
        self._subcategories = {c.name: _WeightIndex(c.subcategories) for c in rules.categories}
        self._lines = _WeightIndex(rules.service_lines)
        self._bias = {c.name: c.bias for c in rules.categories}
        self._default_line = {c.name: c.service_line for c in rules.categories}

    def classify(self, matches: Sequence[Match]) -> Classification:
        rules = self.rules
        window = rules.phrase_window
        words = {m.word for m in matches}
        evidence = self._categories.evidence(words, matches, window)
        scores = dict(self._bias)
        for name, found_words in evidence.items():
            for _, weight in found_words:
                scores[name] += weight
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        top = ranked[0]
        peak, temperature = scores[top], rules.temperature
        exps = {name: math.exp((score - peak) / temperature) for name, score in scores.items()}
        total = sum(exps.values())
        confidence = exps[top] / total
        found = _strongest_first([e for e in evidence.get(top, ()) if e[1] > 0])
        if not evidence:
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
            alternatives=tuple((name, round(exps[name] / total, 3)) for name in ranked[1:4]),
        )
