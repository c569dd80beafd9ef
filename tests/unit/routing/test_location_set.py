"""The location test set (location_cases.yaml): at least 95 % of its questions reach the right station."""

from __future__ import annotations

from pathlib import Path

import yaml

from ticketing.domain.routing import KeywordRouter

CASES = yaml.safe_load((Path(__file__).parent / "location_cases.yaml").read_text(encoding="utf-8"))
LEVELS = ("province", "city", "county", "township", "village")


def test_the_set_is_large_and_covers_every_level_and_rule(router: KeywordRouter) -> None:
    assert len(CASES) >= 200
    expected_levels = {router.places.places[c["expect"]].level for c in CASES}
    assert expected_levels == set(LEVELS)
    rules = {router.route(c["text"], c.get("number"), c.get("division")).location.rule for c in CASES}
    assert rules == {"text", "caller_record", "phone_region", "default"}


def test_at_least_95_percent_reach_the_right_station(router: KeywordRouter) -> None:
    wrong = []
    for case in CASES:
        location = router.route(case["text"], case.get("number"), case.get("division")).location
        if location.code != case["expect"]:
            wrong.append(f"{case['text']!r}: got {location.code} {location.name} ({location.explanation})")
    share = 1 - len(wrong) / len(CASES)
    assert share >= 0.95, f"{share:.1%} right; wrong:\n" + "\n".join(wrong)
    print(f"location set: {share:.1%} of {len(CASES)} right")
