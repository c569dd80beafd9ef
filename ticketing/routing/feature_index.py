"""The columns of a question's features in a model's vocabulary, found without building the strings.

`text_features` (ticketing/domain/routing/features.py) defines the features as strings, and
training counts them as strings. Scoring one question that way costs about 95 string
concatenations and lookups in a dictionary of ~170,000 strings: most of a decision's time, and
mostly cache misses. This index finds the same columns with about three lookups per word:
- the word itself, which gives its column and those of its own character pairs (computed once per
  word), its number among the words of vocabulary pairs (as a pair's first and as its second
  word; a word that is never one is not looked up as one) and its first and last characters;
- the character pair across each boundary between words and the word pair, both as integers (a
  character pair is its two code points; a word pair is the numbers of its two words);
- rule words, in a table of their own (a handful per question).
It is exact for the tokens a segmenter makes (the tests compare both ways on real and on awkward
text), so training on strings and scoring on integers agree. Only the words are looked up by
string, in a table of the vocabulary's words alone: a token shaped like another kind of feature
("@word", "a|b", "#" and two characters) is not looked up as a word; jieba never makes one, as it
passes "@" and "|" through as single characters and does not join "#" to following characters.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from ticketing.domain.routing.features import CHARS, PAIR, RULE
from ticketing.domain.routing.matching import Match

#: Character-pair codes are below 2**42 (two code points of 21 bits); word-pair codes start here.
_PAIR_BASE = 1 << 42
#: Tokens outside the vocabulary remembered at most (their character pairs), beyond its words.
_MAX_LEARNED = 200_000


class FeatureIndex:
    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        self.vocabulary = vocabulary
        pair_word: dict[str, int] = {}
        pairs: list[tuple[str, str, int]] = []
        firsts: set[str] = set()
        seconds: set[str] = set()
        codes: dict[int, int] = {}
        for name, column in vocabulary.items():
            if len(name) == 3 and name[0] == CHARS:
                codes[(ord(name[1]) << 21) | ord(name[2])] = column
            # Every split at a "|" (a word may itself be "|"): the string is the pair's if any is.
            at = name.find(PAIR, 1)
            while 0 < at < len(name) - 1:
                first, second = name[:at], name[at + 1 :]
                pair_word.setdefault(first, len(pair_word))
                pair_word.setdefault(second, len(pair_word))
                pairs.append((first, second, column))
                firsts.add(first)
                seconds.add(second)
                at = name.find(PAIR, at + 1)
        self._pair_words = len(pair_word) or 1
        for first, second, column in pairs:
            codes[_PAIR_BASE + pair_word[first] * self._pair_words + pair_word[second]] = column
        self._codes = codes
        self._rules = {name[1:]: column for name, column in vocabulary.items() if name[0] == RULE and len(name) > 1}
        #: word -> (its code as a pair's first word: _PAIR_BASE + number * count, or -1; its number
        #: as a pair's second word, or -1): a pair's code is the sum of the two.
        self._pair_parts = {
            word: (_PAIR_BASE + n * self._pair_words if word in firsts else -1, n if word in seconds else -1)
            for word, n in pair_word.items()
        }
        #: token -> (its columns: itself and its own character pairs; its pair parts; the code
        #: point of its first character; that of its last shifted by 21 bits), for the
        #: vocabulary's words; other tokens are added as they come (bounded).
        self._tokens: dict[str, tuple[tuple[int, ...], int, int, int, int]] = {}
        for name, column in vocabulary.items():
            if len(name) > 1 and (name[0] == RULE or PAIR in name or (len(name) == 3 and name[0] == CHARS)):
                continue  # a rule word, a pair or a character pair: not a token (see above)
            self._tokens[name] = self._describe(name, column)
        self._known = len(self._tokens)

    def _describe(self, token: str, column: int | None) -> tuple[tuple[int, ...], int, int, int, int]:
        codes = self._codes
        own = [column] if column is not None else []
        for a, b in itertools.pairwise(token):
            found = codes.get((ord(a) << 21) | ord(b))
            if found is not None:
                own.append(found)
        left, right = self._pair_parts.get(token, (-1, -1))
        return tuple(own), left, right, ord(token[0]), ord(token[-1]) << 21

    def columns(self, tokens: Sequence[str], matches: Sequence[Match]) -> list[int]:
        """The column of every feature of `text_features(tokens, matches)` in the vocabulary (one
        entry per occurrence, in no particular order; features outside it are left out)."""
        known, codes = self._tokens.get, self._codes.get
        found: list[int] = []
        append = found.append
        before, last = -1, -1  # the previous word's pair part as a first word, its last character
        for token in tokens:
            described = known(token)
            if described is None:
                if not token.strip():
                    continue  # blanks are no words (never in the table)
                described = self._learn(token)
            own, left, right, first, end = described
            if own:
                found += own
            if last >= 0:
                column = codes(last | first)  # the character pair across the boundary
                if column is not None:
                    append(column)
                if right >= 0 and before >= 0:
                    column = codes(before + right)  # the word pair
                    if column is not None:
                        append(column)
            before, last = left, end
        rules = self._rules
        for match in matches:
            column = rules.get(match.word)
            if column is not None:
                found.append(column)
        return found

    def _learn(self, token: str) -> tuple[tuple[int, ...], int, int, int, int]:
        """A token outside the vocabulary's words: its character pairs may still count."""
        if len(self._tokens) > self._known + _MAX_LEARNED:
            self._tokens = {name: d for i, (name, d) in enumerate(self._tokens.items()) if i < self._known}
        described = self._describe(token, None)
        self._tokens[token] = described
        return described
