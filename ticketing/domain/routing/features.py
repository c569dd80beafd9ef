"""What the learned topic model reads in a question: the same cut the keyword rules see.

Features are strings, so training (scikit-learn) and scoring (numpy) share one definition:
- the words (after fillers are dropped) and pairs of neighbouring words (工资 不给 → "工资|不给");
- the rule words found, after synonyms (老公 → 丈夫), marked "@" (the rules become inputs the model
  weighs, and the same words explain its decision);
- pairs of neighbouring characters "#", which carry what the cut splits differently (欠薪/欠了薪).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ticketing.domain.routing.matching import Match

RULE = "@"
CHARS = "#"
PAIR = "|"


def text_features(tokens: Sequence[str], matches: Sequence[Match]) -> list[str]:
    words = [t for t in tokens if t.strip()]
    out = list(words)
    out += [a + PAIR + b for a, b in itertools.pairwise(words)]
    out += [RULE + m.word for m in matches]
    joined = "".join(words)
    out += [CHARS + joined[i : i + 2] for i in range(len(joined) - 1)]
    return out


def readable(feature: str) -> str:
    """A feature as shown beside the keywords: 工资 不给, 欠薪."""
    if feature.startswith((RULE, CHARS)):
        feature = feature[1:]
    return feature.replace(PAIR, " ")
