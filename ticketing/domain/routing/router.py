"""The router: one text (and what is known of the caller) in, one explained decision out.

The segmenter and the phone-number geocoder are passed in (adapters in `ticketing/routing/`), so
the rules run and are tested without jieba's dictionary or phone data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ticketing.domain.errors import UnroutableText
from ticketing.domain.routing.classifier import Classification, Evidence, KeywordClassifier, TopicOpinion
from ticketing.domain.routing.flags import CRISIS, FlagDetector, FlagResult
from ticketing.domain.routing.matching import Match, WordMatcher
from ticketing.domain.routing.places import Location, PlaceIndex
from ticketing.domain.routing.rules import RoutingRules
from ticketing.domain.routing.text import normalize

Segmenter = Callable[[str], Sequence[str]]
#: The area of a phone number as text ("四川省成都市"), or None when unknown.
PhoneRegions = Callable[[str], str | None]

NEEDS_TRIAGE = "needs_triage"

#: A word worth reading: a Chinese character, or two Latin letters in a row.
_MEANINGFUL = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z]{2}")


class TopicScorer(Protocol):
    """A learned topic model (ticketing/routing/model.py)."""

    classes: tuple[str, ...]
    version: str

    def opinion(self, tokens: Sequence[str], matches: Sequence[Match], explain: int = 6) -> TopicOpinion: ...


@dataclass(frozen=True)
class RoutingDecision:
    classification: Classification
    flags: FlagResult
    location: Location
    truncated: bool

    @property
    def category(self) -> str:
        """The decided category, or needs_triage when a person has to decide."""
        c = self.classification
        return NEEDS_TRIAGE if c.needs_triage else c.category

    @property
    def crisis(self) -> bool:
        return CRISIS in self.flags.flags

    def crisis_line(self) -> str:
        """Shown first wherever a decision is shown, whatever the topic and its confidence."""
        words = "、".join(self.flags.reasons.get(CRISIS, []))
        return f"危机情形 CRISIS（{words}）：紧急处理，已通知值班主管"

    def explanation(self) -> str:
        c = self.classification
        words = "、".join(f"{e.word}({e.weight:+g})" for e in c.evidence[:6]) or "无关键词"
        by = f"模型 {c.model}" if c.model else "关键词规则"
        if c.needs_triage:
            head = f"置信度 {c.confidence:.2f} 不足（{c.reason}），转人工分类；最可能是 {c.category}（{by}）：{words}"
        else:
            head = f"{words} → {c.category}（{by}，置信度 {c.confidence:.2f}）"
        parts = [self.crisis_line()] if self.crisis else []
        parts.append(head)
        if self.flags.flags:
            parts.append("标记：" + "；".join(f"{f}: {'、'.join(w)}" for f, w in self.flags.reasons.items()))
        parts.append(self.location.explanation)
        return "。".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; stored in tickets.routing and returned by the API and `hotline classify`."""
        c, loc = self.classification, self.location
        return {
            "category": self.category,
            "suggested_category": c.category,
            "subcategory": None if c.needs_triage else c.subcategory,
            "service_line": c.service_line,
            "confidence": c.confidence,
            "needs_triage": c.needs_triage,
            "rule": c.reason,
            "keywords": [_evidence(e) for e in c.evidence],
            "model": c.model,
            "rule_keywords": [_evidence(e) for e in c.rule_evidence],
            "crisis": self.crisis,
            "subcategory_keywords": [_evidence(e) for e in c.subcategory_evidence],
            "service_line_rule": c.service_line_rule,
            "service_line_keywords": [_evidence(e) for e in c.service_line_evidence],
            "alternatives": [{"category": name, "probability": p} for name, p in c.alternatives],
            "flags": list(self.flags.flags),
            "flag_words": self.flags.reasons,
            "priority": self.flags.priority,
            "alert": self.flags.alert,
            "station": {
                "code": loc.code,
                "name": loc.name,
                "level": loc.level,
                "rule": loc.rule,
                "explanation": loc.explanation,
                "mentions": list(loc.mentions),
            },
            "truncated": self.truncated,
            "explanation": self.explanation(),
        }


def _evidence(e: Evidence) -> dict[str, Any]:
    return {"word": e.word, "weight": e.weight}


class KeywordRouter:
    def __init__(
        self,
        rules: RoutingRules,
        places: PlaceIndex,
        segment: Segmenter,
        phone_region: PhoneRegions | None = None,
        model: TopicScorer | None = None,
    ) -> None:
        self.rules = rules
        self.places = places
        self.segment = segment
        self.phone_region = phone_region
        self.classifier = KeywordClassifier(rules)
        self.flags = FlagDetector(rules.flags)
        self.words = WordMatcher(rules.vocabulary(), rules.synonyms, rules.fillers)
        self.model: TopicScorer | None = None
        if model is not None:
            self.use_model(model)

    def use_model(self, model: TopicScorer | None) -> None:
        """Decide with this learned model from now on (None: the keyword rules alone)."""
        if model is not None:
            unknown = set(model.classes) - self.classifier.categories()
            if unknown:
                raise ValueError(f"the model knows categories the rules do not: {', '.join(sorted(unknown))}")
        self.model = model

    def analyse(self, text: str) -> tuple[str, bool, list[str], list[Match]]:
        """(clean text, truncated, tokens, rule words found); UnroutableText when nothing is in it."""
        clean, truncated = normalize(text)
        tokens = self.words.tokens(self.segment(clean))
        if not any(_MEANINGFUL.search(t) for t in tokens):
            raise UnroutableText()
        return clean, truncated, tokens, self.words.find(tokens)

    def route(self, text: str, caller_number: str | None = None, caller_division: str | None = None) -> RoutingDecision:
        clean, truncated, tokens, matches = self.analyse(text)
        model = self.model
        opinion = model.opinion(tokens, matches) if model is not None else None
        classification = self.classifier.classify(matches, opinion)
        flags = self.flags.detect(clean, tokens, matches)
        location = self.locate(tokens, caller_number, caller_division)
        return RoutingDecision(classification, flags, location, truncated)

    def locate(self, tokens: Sequence[str], caller_number: str | None, caller_division: str | None) -> Location:
        places = self.places
        record = places.from_caller_record(caller_division)
        region = self.phone_region(caller_number) if caller_number and self.phone_region else None
        by_region = places.from_region(region, self.segment(region)) if region else None
        hints = [loc.code for loc in (record, by_region) if loc is not None]
        return places.from_text(tokens, hints) or record or by_region or places.fallback(region)
