"""The routing rules as plain data: what `config/routing.yaml` says, once it has been validated.

A keyword's weight says how strongly it points at a category (negative: away from it). Phrases
are words that count only together, in order, within a few words of each other (工资 … 不给).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Weights of words (or phrases, written with spaces between their words).
Weights = Mapping[str, float]


@dataclass(frozen=True)
class CategoryRules:
    name: str
    #: The service line a matter of this category goes to unless a service-line rule fires.
    service_line: str
    #: Added to every text's score for this category: how common the category is.
    bias: float = 0.0
    keywords: Weights = field(default_factory=dict)
    subcategories: Mapping[str, Weights] = field(default_factory=dict)


@dataclass(frozen=True)
class FlagRules:
    #: Words, or phrases with their words separated by spaces (活着 没意思), that make a matter
    #: urgent and alert the supervisors (自杀, 家暴, 威胁 …).
    crisis: frozenset[str] = frozenset()
    #: A crisis word right after one of these does not count (没有 打人).
    negators: frozenset[str] = frozenset()
    #: Words that mark a collective matter by themselves (群体讨薪, 集体上访 …).
    collective: frozenset[str] = frozenset()
    #: "<number> <noun>" with at least `collective_min_people` marks one too (二十多个工人).
    collective_nouns: tuple[str, ...] = ()
    collective_min_people: int = 10


@dataclass(frozen=True)
class Override:
    """Where a legal-aid worker sends a kind of question whatever the weights or the model say:
    it applies when every group has one of its words in the text (宅基地 + 占), with `in_order` in
    the groups' order and near each other (丈夫 … 打我, not 打我 丈夫)."""

    name: str
    groups: tuple[frozenset[str], ...]
    category: str
    subcategory: str | None = None
    service_line: str | None = None
    in_order: bool = False


@dataclass(frozen=True)
class RoutingRules:
    categories: tuple[CategoryRules, ...]
    #: variant -> the word it stands for (老公 -> 丈夫), applied before any rule.
    synonyms: Mapping[str, str] = field(default_factory=dict)
    #: Spoken filler words dropped before matching phrases (嗯, 那个, 就是说).
    fillers: frozenset[str] = frozenset()
    #: service line code -> words that send a matter there whatever its category (法律援助 …).
    service_lines: Mapping[str, Weights] = field(default_factory=dict)
    flags: FlagRules = field(default_factory=FlagRules)
    #: Below this probability of the best category, or this much evidence, a person decides.
    min_confidence: float = 0.5
    min_evidence: float = 1.0
    #: Softmax temperature turning scores into probabilities.
    temperature: float = 1.0
    #: How many words apart the words of a phrase may be.
    phrase_window: int = 6
    #: Checked first, in order; the first that applies decides (see Override).
    overrides: tuple[Override, ...] = ()

    def vocabulary(self) -> set[str]:
        """Every word a rule mentions: the segmenter must keep each of them in one piece."""
        words: set[str] = set(self.synonyms) | set(self.synonyms.values())
        weight_maps: list[Weights] = [c.keywords for c in self.categories]
        weight_maps += [w for c in self.categories for w in c.subcategories.values()]
        weight_maps += list(self.service_lines.values())
        for weights in weight_maps:
            for key in weights:
                words.update(key.split())
        words.update(w for phrase in self.flags.crisis for w in phrase.split())
        words.update(w for o in self.overrides for group in o.groups for w in group)
        words |= self.flags.collective | self.flags.negators | self.fillers
        words.update(self.flags.collective_nouns)
        return {w for w in words if w}
