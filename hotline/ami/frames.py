"""AMI framing: bytes from the socket to messages, however the reads split them.

Asterisk sends a banner line, then messages of `Key: value` lines (CRLF) each ended by an empty
line. Messages are cut on the byte terminator and decoded whole, so a UTF-8 character split across
two TCP reads survives (panoramisk 1.4 decodes each read separately and drops it). Anything
malformed becomes a FrameError in the output stream: logged and skipped by the caller, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

TERMINATOR = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
#: A message bigger than this is garbage or an attack; real ones are a few hundred bytes.
MAX_MESSAGE_BYTES = 256 * 1024


@dataclass(frozen=True)
class AmiMessage:
    #: "event" or "response", from the first line (OriginateResponse is an event with a Response header).
    kind: str
    headers: tuple[tuple[str, str], ...]
    raw: bytes
    #: Lines that were not `Key: value` and were left out; the bridge logs them.
    skipped_lines: int = 0

    @property
    def name(self) -> str:
        return self.headers[0][1]

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of `key` (keys can repeat, e.g. Output lines of a Command response)."""
        lowered = key.lower()
        return next((value for k, value in self.headers if k.lower() == lowered), default)

    def get_all(self, key: str) -> list[str]:
        lowered = key.lower()
        return [value for k, value in self.headers if k.lower() == lowered]

    def as_dict(self) -> dict[str, str]:
        """Headers as a dict, first value winning for repeated keys."""
        out: dict[str, str] = {}
        for key, value in self.headers:
            out.setdefault(key, value)
        return out


@dataclass(frozen=True)
class Banner:
    version: str
    raw: bytes


@dataclass(frozen=True)
class FrameError:
    reason: str
    raw: bytes


Frame = AmiMessage | Banner | FrameError
#: A predicate on a message in place: (buffer, start, stop) -> keep it?
Keep = Callable[[bytearray, int, int], bool]


SERVER_KINDS = ("event", "response")
CLIENT_KINDS = ("action",)


def parse_message(raw: bytes, kinds: tuple[str, ...] = SERVER_KINDS) -> AmiMessage | FrameError:
    """One message's bytes (terminator included or not) to a message, or the reason it is not one.

    `kinds` are the first headers accepted: Event/Response from Asterisk, Action from a client."""
    body = raw.removesuffix(TERMINATOR)
    text = body.decode("utf-8", errors="replace")
    headers: list[tuple[str, str]] = []
    bad_lines = 0
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip():
            bad_lines += 1
            continue
        headers.append((key, value[1:] if value.startswith(" ") else value))
    if not headers:
        return FrameError("no Key: value lines", raw)
    first = headers[0][0].lower()
    if first not in kinds:
        expected = " or ".join(kind.capitalize() for kind in kinds)
        return FrameError(f"first header is {headers[0][0]!r}, not {expected}", raw)
    # A stray line does not lose the message: one garbage line must not cost a Hangup.
    return AmiMessage(kind=first, headers=tuple(headers), raw=raw, skipped_lines=bad_lines)


class FrameDecoder:
    """Feed it bytes as they arrive; it yields frames in order and keeps any incomplete tail."""

    def __init__(
        self,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        kinds: tuple[str, ...] = SERVER_KINDS,
        expect_banner: bool = True,
    ) -> None:
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self.kinds = kinds
        self._discarding = False
        self.max_message_bytes = max_message_bytes
        #: Messages `split` dropped on its `keep` predicate's word.
        self.dropped = 0

    def feed(self, data: bytes) -> Iterator[Frame]:
        for piece in self.split(data):
            yield parse_message(piece, self.kinds) if isinstance(piece, bytes) else piece

    def split(self, data: bytes, keep: Keep | None = None) -> Iterator[bytes | Banner | FrameError]:
        """Like `feed`, but whole messages come out as raw bytes, for callers that parse selectively.

        `keep(buffer, start, stop)` looks at a message in place; those it refuses are dropped without
        being copied (most of Asterisk's events are of no interest to the bridge)."""
        self._buffer += data
        if self._expect_banner:
            banner = self._take_banner()
            if banner is not None:
                yield banner
            elif self._expect_banner:
                return  # the banner line is not complete yet
        buffer = self._buffer
        start = 0
        try:
            while True:
                end = buffer.find(TERMINATOR, start)
                if end < 0:
                    if len(buffer) - start > self.max_message_bytes:
                        # Keep the last bytes: they may hold the start of the terminator.
                        keep_from = len(buffer) - len(TERMINATOR)
                        dropped = bytes(buffer[start:keep_from])
                        start = keep_from
                        if not self._discarding:
                            self._discarding = True
                            yield FrameError(f"message over {self.max_message_bytes} bytes; skipped", dropped[:200])
                    return
                stop = end + len(TERMINATOR)
                if keep is not None and not self._discarding and not keep(buffer, start, stop):
                    self.dropped += 1
                    start = stop
                    continue
                raw = bytes(buffer[start:stop])
                start = stop
                if self._discarding:
                    self._discarding = False  # this terminator ends the oversized message
                    continue
                if len(raw) > self.max_message_bytes:
                    yield FrameError(f"message over {self.max_message_bytes} bytes; skipped", raw[:200])
                    continue
                yield raw
        finally:
            del buffer[:start]

    def _take_banner(self) -> Banner | None:
        line_end = self._buffer.find(b"\r\n")
        if line_end < 0:
            if len(self._buffer) >= len(BANNER_PREFIX) and not self._buffer.startswith(BANNER_PREFIX):
                self._expect_banner = False  # no banner (mid-stream replay): parse messages directly
            return None
        self._expect_banner = False
        if not self._buffer.startswith(BANNER_PREFIX):
            return None
        raw = bytes(self._buffer[: line_end + 2])
        del self._buffer[: line_end + 2]
        return Banner(version=raw[len(BANNER_PREFIX) : -2].decode("ascii", errors="replace"), raw=raw)

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a message."""
        return len(self._buffer)


EVENT_PREFIX = b"Event: "


def event_name(raw: bytes) -> bytes | None:
    """The Event name of a raw message as bytes (b"Hangup"), without parsing the rest; None for a Response."""
    if not raw.startswith(EVENT_PREFIX):
        return None
    return raw[len(EVENT_PREFIX) : raw.find(b"\r\n")]


def parse_fields(raw: bytes) -> tuple[dict[str, str], int]:
    """A message's headers as a dict (first value wins) and the number of malformed lines skipped.

    The fast path of `parse_message` for events the bridge consumes: same rules, no tuples kept."""
    fields: dict[str, str] = {}
    bad_lines = 0
    for line in raw.removesuffix(TERMINATOR).decode("utf-8", errors="replace").split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep or not key or key[0] == " " or key[-1] == " ":
            bad_lines += 1
        elif key not in fields:
            fields[key] = value
    return fields, bad_lines
