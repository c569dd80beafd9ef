"""Find the rules' words in a segmented text.

A word matches when it equals one token or a run of consecutive tokens (the segmenter may cut 抚养费
as 抚养/费), never part of a token: 劳动 does not match inside 劳动合同. Synonyms are mapped to the
word they stand for and filler words are skipped, so spoken and written text look alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple


class Match(NamedTuple):  # a tuple: thousands are made per second
    word: str  # the canonical word (after synonyms)
    surface: str  # as written in the text
    start: int  # token index of its first token
    end: int  # token index after its last token


class WordMatcher:
    def __init__(self, words: Iterable[str], synonyms: Mapping[str, str], fillers: Iterable[str] = ()) -> None:
        self._canonical: dict[str, str] = {w: w for w in words}
        self._canonical.update({variant: word for variant, word in synonyms.items()})
        self._fillers = frozenset(fillers)
        # Every proper prefix of a word: a run of tokens that is none of these cannot grow into one.
        self._prefixes = {w[:k] for w in self._canonical for k in range(1, len(w))}
        self._starts = frozenset(self._canonical) | self._prefixes

    def tokens(self, tokens: Sequence[str]) -> list[str]:
        """The tokens without fillers and blanks."""
        fillers = self._fillers
        return [t for t in tokens if t.strip() and t not in fillers]

    def find(self, tokens: Sequence[str]) -> list[Match]:
        """Longest match at each position, left to right, without overlaps."""
        canonical, prefixes, starts = self._canonical, self._prefixes, self._starts
        found: list[Match] = []
        n = len(tokens)
        after = 0  # the first position not inside a match already found
        # Most tokens neither are a word nor begin one: only the others are looked at.
        for i in [i for i, token in enumerate(tokens) if token in starts]:
            if i < after:
                continue
            best = -1
            run = tokens[i]
            j = i + 1
            while True:
                if run in canonical:
                    best = j
                if j >= n or run not in prefixes:
                    break
                run += tokens[j]
                j += 1
            if best >= 0:
                surface = run if best == j else "".join(tokens[i:best])  # most words are one token
                found.append(Match(canonical[surface], surface, i, best))
                after = best
        return found


def groups_in_order(groups: Sequence[Collection[str]], matches: Sequence[Match], window: int) -> bool:
    """A word of each group, in the groups' order, the first and the last at most `window` tokens
    apart (a phrase with a choice of words at each place)."""
    for first_at, first in enumerate(matches):
        if first.word not in groups[0]:
            continue
        position, last = first_at, first
        for group in groups[1:]:
            nxt = next((k for k in range(position + 1, len(matches)) if matches[k].word in group), None)
            if nxt is None:
                break
            position, last = nxt, matches[nxt]
        else:
            if last.start - first.start <= window:
                return True
    return False


def phrase_found(parts: Sequence[str], matches: Sequence[Match], window: int) -> bool:
    """All words of the phrase, in order, the first and last at most `window` tokens apart."""
    return groups_in_order([(part,) for part in parts], matches, window)
