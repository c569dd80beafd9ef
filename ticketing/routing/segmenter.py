"""jieba segmentation with the routing vocabulary as a user dictionary.

Each router gets its own `jieba.Tokenizer`, so the words added here never leak into other users of
jieba in the process. Loading the main dictionary takes about a second (less once jieba has
written its cache file), so build this once per process.

The cut is jieba's precise mode without HMM (unknown words are never rule words). jieba's own
Python `lcut` costs about 100 µs for a 40-character question, as much as everything else the router
does together, so the blocks are cut by jieba-rs (`rjieba`), the same algorithm over the same
dictionary in Rust, given exactly the words and frequencies jieba computed here. The tokens are the
same (a test compares them with `Tokenizer.lcut`) and the cut is some twenty times faster. Where
a piece repeats three times running (拖拖拖, 谢谢谢谢谢谢), cuts such as 拖拖/拖 and 拖/拖拖 score
exactly the same, and the two libraries settle that tie differently; such texts (none of the 39,713
labelled questions) are cut by jieba itself.

jieba-rs splits a text into blocks as jieba does, except that its blocks also take the rarer CJK
ideographs (extension A, compatibility, the supplementary planes, U+9FD6-U+9FFF). A text without
them, i.e. nearly every question, is cut by jieba-rs in one call; any other text block by block.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jieba
import rjieba

logger = logging.getLogger(__name__)

# jieba's own split of a text into blocks it segments and characters it passes through.
_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
_SKIP = re.compile(r"(\r\n|\s)")
#: Texts whose blocks jieba and jieba-rs find alike: jieba's block characters, ASCII, spaces and
#: common punctuation (none of them a CJK ideograph outside jieba's range).
_SAME_BLOCKS = re.compile(r"[\u4E00-\u9FD5\x00-\x7f\s\u2000-\u206f\u3000-\u303f\uff00-\uffef]*")
#: A piece of up to four characters three times running: where two cuts tie (see above).
_REPEATS = re.compile(r"(.{1,4})\1\1", re.DOTALL)
#: Private-use characters: outside jieba's blocks, so never part of a text that is cut.
_NEVER_IN_TEXT = "\ue000\ue001"


#: Frequency given to place names so that 乐至宝林 is cut 乐至/宝林 and not 乐/至宝/林.
PLACE_FREQUENCY = 1000


class JiebaSegmenter:
    def __init__(self, words: Iterable[str], places: Iterable[str] = ()) -> None:
        jieba.setLogLevel(logging.WARNING)  # jieba announces its cache on stderr otherwise
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        fast = rjieba.Jieba()
        # jieba adds a re-added word's frequency to its total without taking the old one off;
        # jieba-rs replaces it. The difference goes to a word no text can contain, so both
        # dictionaries have the same total and every route the same probability.
        uncounted = 0
        added = 0
        for word in sorted(set(words)):
            if word.strip():
                # jieba's suggestion: a frequency just high enough to keep the word in one piece.
                frequency = tokenizer.suggest_freq(word, False)
                uncounted += tokenizer.FREQ.get(word, 0)
                tokenizer.add_word(word, frequency)
                fast.add_word(word, frequency, None)
                added += 1
        for place in sorted(set(places)):
            if place.strip() and tokenizer.FREQ.get(place, 0) < PLACE_FREQUENCY:
                uncounted += tokenizer.FREQ.get(place, 0)
                tokenizer.add_word(place, PLACE_FREQUENCY)
                fast.add_word(place, PLACE_FREQUENCY, None)
        if uncounted:
            fast.add_word(_NEVER_IN_TEXT, uncounted, None)
        self.tokenizer = tokenizer
        self._fast = fast
        logger.info("jieba segmenter ready with %d routing words", added)

    def __call__(self, text: str) -> list[str]:
        if _REPEATS.search(text):
            return self.tokenizer.lcut(text, HMM=False)
        if _SAME_BLOCKS.fullmatch(text):
            return self._fast.cut(text, False)
        out: list[str] = []
        for block in _BLOCK.split(text):
            if not block:
                continue
            if _BLOCK.fullmatch(block):
                out.extend(self._fast.cut(block, False))
            else:
                for part in _SKIP.split(block):
                    if _SKIP.fullmatch(part):
                        out.append(part)
                    else:
                        out.extend(part)
        return out
