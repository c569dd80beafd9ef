"""`config/routing.yaml`: the router's keywords, flags and place cues, checked like the other files.

Checks within the file come from the models; checks against `categories.yaml` and `stations.yaml`
(known categories, subcategories, service lines, default station) from `cross_check`, so a typo in
a category name is reported with its field path instead of silently never matching.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ticketing.domain.routing import CategoryRules, FlagRules, Override, Place, PlaceIndex, RoutingRules

if TYPE_CHECKING:
    from settings.files import CategoriesFile, StationNode, StationsFile

Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^\S+$")]
#: A keyword, or a phrase of up to four words separated by single spaces.
Term = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^\S+( \S+){0,3}$")
]
Weight = Annotated[float, Field(ge=-10, le=10)]
TermWeights = dict[Term, Weight]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CategoryRulesModel(_Strict):
    bias: float = Field(0.0, ge=-5, le=5)
    keywords: TermWeights = Field(default_factory=dict)
    subcategories: dict[str, TermWeights] = Field(default_factory=dict)

    @field_validator("keywords")
    @classmethod
    def _finite(cls, weights: TermWeights) -> TermWeights:
        bad = [w for w, v in weights.items() if not math.isfinite(v)]
        if bad:
            raise ValueError(f"weights must be numbers: {', '.join(bad)}")
        return weights


class FlagsModel(_Strict):
    #: Words, or phrases of up to four words (活着 没意思) that count when they come in this order.
    crisis: list[Term] = Field(min_length=1)
    negators: list[Word] = Field(default_factory=list)
    collective: list[Word] = Field(default_factory=list)
    collective_nouns: list[Word] = Field(default_factory=list)
    collective_min_people: int = Field(10, ge=2, le=10_000)


class PlacesModel(_Strict):
    #: Division code of the centre that takes a matter no rule could place.
    default_station: str = Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    cues: list[Word] = Field(default_factory=list)
    common_words: list[Word] = Field(default_factory=list)
    origin_words: list[Word] = Field(default_factory=list)


class OverrideModel(_Strict):
    name: Word
    #: Every group must have one of its words in the text.
    when: list[list[Word]] = Field(min_length=1, max_length=5)
    #: The groups' words in this order, the first and the last within phrase_window tokens.
    in_order: bool = False
    category: str
    subcategory: str | None = None
    service_line: str | None = None

    @field_validator("when")
    @classmethod
    def _groups(cls, groups: list[list[str]]) -> list[list[str]]:
        if any(not group for group in groups):
            raise ValueError("every group needs at least one word")
        return groups


class RoutingFile(_Strict):
    #: With a learned model: the share of auto-routed matters that must be right; the triage
    #: threshold is the lowest calibrated confidence that keeps it on held-out questions.
    target_precision: float = Field(0.9, ge=0.5, le=0.999)
    min_confidence: float = Field(0.5, ge=0, le=1)
    min_evidence: float = Field(1.0, ge=0, le=100)
    temperature: float = Field(1.0, ge=0.1, le=100)
    phrase_window: int = Field(6, ge=1, le=50)
    fillers: list[Word] = Field(default_factory=list)
    #: word -> the variants that stand for it (丈夫: [老公]).
    synonyms: dict[Word, list[Word]] = Field(default_factory=dict)
    service_lines: dict[str, TermWeights] = Field(default_factory=dict)
    flags: FlagsModel
    places: PlacesModel
    categories: dict[str, CategoryRulesModel] = Field(min_length=1)
    overrides: list[OverrideModel] = Field(default_factory=list)

    @field_validator("synonyms")
    @classmethod
    def _variants_unique(cls, synonyms: dict[str, list[str]]) -> dict[str, list[str]]:
        owner: dict[str, str] = {}
        for word, variants in synonyms.items():
            for variant in variants:
                if variant in owner and owner[variant] != word:
                    raise ValueError(f"{variant} stands for both {owner[variant]} and {word}")
                if variant in synonyms:
                    raise ValueError(f"{variant} is a variant of {word} and has variants of its own")
                owner[variant] = word
        return synonyms


def cross_check(routing: RoutingFile, categories: CategoriesFile, stations: StationsFile) -> list[tuple[str, str]]:
    """(field path, problem) for every name routing.yaml uses that the other files do not define."""
    from settings.files import walk_stations

    problems = []
    known = {c.name: c for c in categories.categories}
    lines = {line.code for line in categories.service_lines}
    for name, rules in routing.categories.items():
        if name not in known:
            problems.append((f"categories.{name}", f"not a category of categories.yaml ({', '.join(known)})"))
            continue
        for sub in rules.subcategories:
            if sub not in known[name].subcategories:
                problems.append(
                    (f"categories.{name}.subcategories.{sub}", f"not a subcategory of {name} in categories.yaml")
                )
    for i, rule in enumerate(routing.overrides):
        where = f"overrides.{i}"
        if rule.category not in known:
            problems.append((f"{where}.category", f"not a category of categories.yaml ({', '.join(known)})"))
        elif rule.subcategory and rule.subcategory not in known[rule.category].subcategories:
            problems.append((f"{where}.subcategory", f"not a subcategory of {rule.category} in categories.yaml"))
        if rule.service_line and rule.service_line not in lines:
            problems.append((f"{where}.service_line", f"not a service line code ({', '.join(sorted(lines))})"))
    for line in routing.service_lines:
        if line not in lines:
            problems.append((f"service_lines.{line}", f"not a service line code ({', '.join(sorted(lines))})"))
    codes = {node.code for node in walk_stations(stations.root)}
    if routing.places.default_station not in codes:
        problems.append(("places.default_station", f"{routing.places.default_station} is not in stations.yaml"))
    return problems


def routing_rules(routing: RoutingFile, categories: CategoriesFile) -> RoutingRules:
    """The domain's rules, every category of categories.yaml included (those without keywords
    can still be suggested by their bias, and roll up in statistics)."""
    rules = []
    for category in categories.categories:
        spec = routing.categories.get(category.name, CategoryRulesModel())
        rules.append(
            CategoryRules(
                name=category.name,
                service_line=category.service_line,
                bias=spec.bias,
                keywords=dict(spec.keywords),
                subcategories={k: dict(v) for k, v in spec.subcategories.items()},
            )
        )
    flags = routing.flags
    return RoutingRules(
        categories=tuple(rules),
        synonyms={variant: word for word, variants in routing.synonyms.items() for variant in variants},
        fillers=frozenset(routing.fillers),
        service_lines={k: dict(v) for k, v in routing.service_lines.items()},
        flags=FlagRules(
            crisis=frozenset(flags.crisis),
            negators=frozenset(flags.negators),
            collective=frozenset(flags.collective),
            collective_nouns=tuple(flags.collective_nouns),
            collective_min_people=flags.collective_min_people,
        ),
        min_confidence=routing.min_confidence,
        min_evidence=routing.min_evidence,
        temperature=routing.temperature,
        phrase_window=routing.phrase_window,
        overrides=tuple(
            Override(o.name, tuple(frozenset(g) for g in o.when), o.category, o.subcategory, o.service_line, o.in_order)
            for o in routing.overrides
        ),
    )


def place_index(routing: RoutingFile, root: StationNode) -> PlaceIndex:
    places: list[Place] = []

    def visit(node: StationNode, parent: str | None) -> None:
        places.append(Place(node.code, node.name, node.level, parent, tuple(node.aliases)))
        for child in node.children:
            visit(child, node.code)

    visit(root, None)
    spec = routing.places
    return PlaceIndex(places, spec.default_station, spec.cues, spec.common_words, spec.origin_words)
