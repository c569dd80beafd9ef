"""Flags that change how a matter is handled, whatever its category.

- crisis: someone's life or safety is at risk (自杀, 家暴, 威胁 …): priority urgent, supervisors alerted.
- collective: many people in one matter (群体讨薪, 二十多个工人): sensitive, priority high.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ticketing.domain.routing.matching import Match, phrase_found
from ticketing.domain.routing.rules import FlagRules
from ticketing.domain.routing.text import counted_groups, counted_pattern

CRISIS = "crisis"
COLLECTIVE = "collective"
SENSITIVE = "sensitive"
#: The words of a crisis phrase (活着 … 没意思) are at most this many words apart.
CRISIS_WINDOW = 4


@dataclass(frozen=True)
class FlagResult:
    flags: tuple[str, ...]
    priority: str  # normal | high | urgent
    alert: bool  # tell the supervisors now
    reasons: dict[str, list[str]]  # flag -> the words that raised it


class FlagDetector:
    def __init__(self, rules: FlagRules) -> None:
        self.rules = rules
        self._counted = counted_pattern(rules.collective_nouns)
        #: Any of the nouns, in one pass over the text.
        self._nouns = re.compile("|".join(map(re.escape, rules.collective_nouns)) or "(?!)")
        self._crisis_words = frozenset(w for w in rules.crisis if " " not in w)
        #: Phrases (活着 没意思) by their first word.
        self._crisis_phrases: dict[str, list[tuple[str, ...]]] = {}
        for phrase in rules.crisis:
            if " " in phrase:
                parts = tuple(phrase.split())
                self._crisis_phrases.setdefault(parts[0], []).append(parts)

    def detect(self, text: str, tokens: Sequence[str], matches: Sequence[Match]) -> FlagResult:
        rules = self.rules
        crisis = []
        for match in matches:
            if match.word in self._crisis_words:
                before = tokens[match.start - 1] if match.start > 0 else ""
                if before not in rules.negators:
                    crisis.append(match.surface)
        words = {m.word for m in matches}
        for first in self._crisis_phrases.keys() & words:
            for parts in self._crisis_phrases[first]:
                if all(p in words for p in parts) and phrase_found(parts, matches, CRISIS_WINDOW):
                    crisis.append("…".join(parts))
        collective = [m.surface for m in matches if m.word in rules.collective]
        if self._nouns.search(text):  # most texts count nobody
            collective += [
                mention
                for mention, count in counted_groups(self._counted, text)
                if count >= rules.collective_min_people
            ]
        reasons: dict[str, list[str]] = {}
        flags: list[str] = []
        if crisis:
            flags.append(CRISIS)
            reasons[CRISIS] = list(dict.fromkeys(crisis))
        if collective:
            flags += [COLLECTIVE, SENSITIVE]
            reasons[COLLECTIVE] = list(dict.fromkeys(collective))
        priority = "urgent" if crisis else "high" if collective else "normal"
        return FlagResult(tuple(flags), priority, bool(crisis), reasons)
