"""The router: one text (and what is known of the caller) in, one explained decision out.

The segmenter and the phone-number geocoder are passed in (adapters in `ticketing/routing/`), so
the rules run and are tested without jieba's dictionary or phone data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ticketing.domain.routing.classifier import Classification, Evidence, KeywordClassifier
from ticketing.domain.routing.flags import FlagDetector, FlagResult
from ticketing.domain.routing.matching import WordMatcher
from ticketing.domain.routing.places import Location, PlaceIndex
from ticketing.domain.routing.rules import RoutingRules
from ticketing.domain.routing.text import normalize

Segmenter = Callable[[str], Sequence[str]]
#: The area of a phone number as text ("四川省成都市"), or None when unknown.
PhoneRegions = Callable[[str], str | None]

NEEDS_TRIAGE = "needs_triage"


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

    def explanation(self) -> str:
        c = self.classification
        words = "、".join(f"{e.word}({e.weight:+g})" for e in c.evidence[:6]) or "无关键词"
        if c.needs_triage:
            head = f"置信度 {c.confidence:.2f} 不足（{c.reason}），转人工分类；最可能是 {c.category}：{words}"
        else:
            head = f"{words} → {c.category}（置信度 {c.confidence:.2f}）"
        parts = [head]
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
    ) -> None:
        self.rules = rules
        self.places = places
        self.segment = segment
        self.phone_region = phone_region
        self.classifier = KeywordClassifier(rules)
        self.flags = FlagDetector(rules.flags)
        self.words = WordMatcher(rules.vocabulary(), rules.synonyms, rules.fillers)

    def route(self, text: str, caller_number: str | None = None, caller_division: str | None = None) -> RoutingDecision:
        clean, truncated = normalize(text)
        tokens = self.words.tokens(self.segment(clean))
        matches = self.words.find(tokens)
        classification = self.classifier.classify(matches)
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
