"""Where a matter belongs: the station directory as names to look for, and the rules that choose.

Rules in order, the first that finds a station decides:
1. text: places named in the text (full names, names with 县/镇/村…, the short forms callers use);
   the most specific wins (between equals, not the one marked as origin by 老家 or 户口, then the
   first named). A bare short form of a township or village (天池, 劳动, 东山) is also
   an everyday word, so it counts only after a place cue (在, 住在, 老家 …) or with a county or
   township it belongs to named too (and words like 劳动 only then). A name several stations
   share is settled by the other places named, then by the caller's area, else the stations'
   common parent takes it.
2. caller_record: the division code kept on the caller's record, or its nearest station above.
3. phone_region: the area of the caller's number; several cities mean their common parent.
4. default: the default centre.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ticketing.domain.routing.matching import Match, WordMatcher

LEVELS = ("province", "city", "county", "township", "village")
#: Place names looked at per text: a question names a few; a text naming hundreds is noise, and
#: settling shared names compares every pair.
MAX_MENTIONS = 50
_SUFFIXES = ("省", "市", "州", "县", "区", "镇", "乡", "街道", "村", "社区", "公共法律服务中心", "工作站", "工作室")


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    parent: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    level: str
    rule: str  # text | caller_record | phone_region | default
    explanation: str
    mentions: tuple[str, ...] = ()  # place names found in the text, as written


def _is_weak(surface: str, place: Place) -> bool:
    return LEVELS.index(place.level) >= LEVELS.index("township") and not surface.endswith(_SUFFIXES)


class PlaceIndex:
    def __init__(
        self,
        places: Iterable[Place],
        default_code: str,
        cues: Iterable[str] = (),
        common_words: Iterable[str] = (),
        origin_words: Iterable[str] = (),
    ) -> None:
        self.places = {p.code: p for p in places}
        if default_code not in self.places:
            raise ValueError(f"default station {default_code} is not in the directory")
        self.default = self.places[default_code]
        #: Words before a short form that make it a place: 住在 天池.
        self.cues = frozenset(cues)
        #: Short forms that are everyday words (劳动, 东山): a cue is not enough, only a place
        #: above them named in the same text makes them places.
        self.common_words = frozenset(w.lower() for w in common_words)
        #: Words that mark where someone comes from rather than where they are (老家, 户口): such a
        #: place loses a tie with another equally specific one.
        self.origin_words = frozenset(origin_words)
        self._surfaces: dict[str, list[str]] = {}
        for place in self.places.values():
            for surface in dict.fromkeys((place.name, *place.aliases)):
                self._surfaces.setdefault(surface.lower(), []).append(place.code)
        self._weak = {s for s, codes in self._surfaces.items() if all(_is_weak(s, self.places[c]) for c in codes)}
        self._above = {code: frozenset(self.chain(code)) for code in self.places}
        self.matcher = WordMatcher(self._surfaces, {})

    def names(self) -> set[str]:
        """Every name and short form of a station, as matched."""
        return set(self._surfaces)

    def vocabulary(self) -> set[str]:
        return self.names() | self.cues | self.origin_words

    # -- the directory as a tree ------------------------------------------------------------
    def chain(self, code: str) -> list[str]:
        """The station and every station above it, nearest first."""
        out = []
        current: str | None = code
        while current is not None:
            out.append(current)
            current = self.places[current].parent
        return out

    def related(self, a: str, b: str) -> bool:
        """One station is the other or above it."""
        return a in self._above[b] or b in self._above[a]

    def common_parent(self, codes: Sequence[str]) -> str:
        shared = self.chain(codes[0])
        for code in codes[1:]:
            above = set(self.chain(code))
            shared = [c for c in shared if c in above]
        return shared[0] if shared else self.default.code

    def nearest(self, division_code: str) -> str | None:
        """The station with this division code, or the nearest one above it in the directory."""
        code = division_code.strip()
        if not code.isdigit() or len(code) not in (6, 9, 12):
            return None
        for candidate in (code, code[:9], code[:6], code[:4] + "00", code[:2] + "0000"):
            if candidate in self.places:
                return candidate
        return None

    def depth(self, code: str) -> int:
        return LEVELS.index(self.places[code].level)

    # -- rules ------------------------------------------------------------------------------
    def mentions(self, tokens: Sequence[str]) -> list[tuple[Match, list[str]]]:
        """Place names in the tokens with the stations each may mean; weak short forms without
        a cue are left out."""
        found = [(m, self._surfaces[m.word]) for m in self.matcher.find(tokens)][:MAX_MENTIONS]
        if not found:
            return found  # most texts name no place
        county = LEVELS.index("county")
        strong = {c for m, codes in found if m.word not in self._weak for c in codes if self.depth(c) >= county}
        kept = []
        for match, codes in found:
            if match.word in self._weak:
                cued = match.word not in self.common_words and match.start > 0 and tokens[match.start - 1] in self.cues
                beside = any(self.related(c, s) for c in codes for s in strong)
                if not (cued or beside):
                    continue
            kept.append((match, codes))
        return kept

    def _resolve(self, found: list[tuple[Match, list[str]]], hints: Sequence[str]) -> tuple[list[str], list[str]]:
        """One station per mention (settling shared names); returns codes and notes."""
        notes: list[str] = []
        resolved: list[str] = []
        for i, (match, codes) in enumerate(found):
            options = codes
            if len(options) > 1:
                others = {c for k, (_, cs) in enumerate(found) if k != i for c in cs}
                options = [c for c in codes if any(self.related(c, o) for o in others)] or codes
            if len(options) > 1 and hints:
                options = [c for c in options if any(self.related(c, h) for h in hints)] or options
            if len(options) > 1:
                parent = self.common_parent(options)
                names = "、".join(self.places[c].name for c in options)
                notes.append(f"「{match.surface}」可指 {names}，取其上级 {self.places[parent].name}")
                options = [parent]
            resolved.append(options[0])
        return resolved, notes

    def from_text(self, tokens: Sequence[str], hints: Sequence[str] = ()) -> Location | None:
        found = self.mentions(tokens)
        if not found:
            return None
        resolved, notes = self._resolve(found, hints)

        def rank(k: int) -> tuple[int, bool, int]:
            start = found[k][0].start
            before = "".join(tokens[max(0, start - 3) : start])
            origin = any(word in before for word in self.origin_words)
            return (self.depth(resolved[k]), not origin, -k)

        best = max(range(len(resolved)), key=rank)
        code = resolved[best]
        surfaces = tuple(dict.fromkeys(m.surface for m, _ in found))
        why = f"文中地名「{found[best][0].surface}」→ {self.places[code].name}"
        if len(set(resolved)) > 1:
            why += f"（在 {'、'.join(surfaces)} 中最具体）"
        return self._location(code, "text", "；".join([why, *notes]), surfaces)

    def from_caller_record(self, division_code: str | None) -> Location | None:
        code = self.nearest(division_code) if division_code else None
        if code is None:
            return None
        return self._location(code, "caller_record", f"来电人档案的区划代码 {division_code} → {self.places[code].name}")

    def from_region(self, region: str, tokens: Sequence[str]) -> Location | None:
        found = [(m, codes) for m, codes in self.mentions(tokens) if m.word not in self._weak]
        if not found:
            return None
        codes = [c for _, cs in found for c in cs]
        deepest = max(codes, key=self.depth)
        if all(self.related(deepest, c) for c in codes):
            code, why = deepest, f"号码归属地 {region} → {self.places[deepest].name}"
        else:
            code = self.common_parent(codes)
            why = f"号码归属地 {region} 跨多个地区，取其上级 {self.places[code].name}"
        return self._location(code, "phone_region", why)

    def fallback(self, region: str | None) -> Location:
        why = "未能从文本、来电人档案或号码确定地区，交默认中心"
        if region:
            why = f"号码归属地 {region} 不在站点目录内；" + why
        return self._location(self.default.code, "default", why)

    def _location(self, code: str, rule: str, why: str, mentions: tuple[str, ...] = ()) -> Location:
        place = self.places[code]
        return Location(code, place.name, place.level, rule, why, mentions)
