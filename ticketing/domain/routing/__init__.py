"""Routing rules: category, flags and station for a question, explained. Standard library only."""

from ticketing.domain.errors import UnroutableText
from ticketing.domain.routing.places import Location, Place, PlaceIndex
from ticketing.domain.routing.router import NEEDS_TRIAGE, KeywordRouter, RoutingDecision, TopicScorer
from ticketing.domain.routing.rules import CategoryRules, FlagRules, Override, RoutingRules

__all__ = [
    "NEEDS_TRIAGE",
    "CategoryRules",
    "FlagRules",
    "KeywordRouter",
    "Location",
    "Override",
    "Place",
    "PlaceIndex",
    "RoutingDecision",
    "RoutingRules",
    "TopicScorer",
    "UnroutableText",
]
