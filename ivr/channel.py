"""One FastAGI session seen from the server: send a command, read its response, notice hang-ups.

What the recorded Asterisk 22 sessions show and this class relies on:
- a caller hanging up during STREAM FILE / GET DATA makes it return `result=-1`, then `HANGUP`;
- a caller hanging up between commands sends `HANGUP` unsolicited, and the next command that needs
  the channel gets `511`; SET/GET VARIABLE and VERBOSE still work on a dead channel;
- Asterisk sends one more `HANGUP` after the server stops, whatever happened: it means nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ivr.protocol import HANGUP_LINE, AgiProtocolError, AgiResponse, format_command, is_block_start, parse_response

logger = logging.getLogger(__name__)

#: Longest line accepted from Asterisk; a usage block or a variable value is far shorter.
MAX_LINE = 16 * 1024


class CallerHungUp(Exception):
    """The caller is gone (HANGUP, 511, result=-1 on a media command, or the socket closed)."""


class AgiCommandError(Exception):
    """Asterisk refused a command (510 unknown, 520 usage): a bug in this server, not the caller."""

    def __init__(self, command: str, response: AgiResponse) -> None:
        super().__init__(f"{command!r} refused: {response.text.splitlines()[0] if response.text else response.code}")
        self.command = command
        self.response = response


@dataclass(frozen=True)
class Digits:
    """What GET DATA collected: the digits (maybe none) and whether it ended by timing out."""

    digits: str
    timed_out: bool


@dataclass(frozen=True)
class Recording:
    """RECORD FILE's outcome: how it ended (`dtmf`, `timeout`, `hangup`, ...) and samples written."""

    ended_by: str
    endpos: int


class AgiChannel:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: dict[str, str],
        *,
        on_command: Callable[[float], None] | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.env = env
        self.hung_up = False
        self.commands = 0
        self._on_command = on_command
        #: When the last input from Asterisk was read: the server's own time runs from here.
        self.input_at = time.perf_counter()

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "?")

    async def command(self, *words: str, media: bool = False) -> AgiResponse:
        """Send one command and return its response. `media` commands need a live channel: for them
        a hang-up (511, result=-1) raises CallerHungUp; other commands still run on a dead channel."""
        text = format_command(*words)
        if media and self.hung_up:
            raise CallerHungUp(f"{words[0]} after the caller hung up")
        if self._on_command is not None:
            self._on_command(time.perf_counter() - self.input_at)
        self.commands += 1
        try:
            self.writer.write(text.encode() + b"\n")
            # No timeout per command (a GET DATA or RECORD FILE takes as long as the caller does);
            # the server bounds the whole session instead.
            response = await self._read_response()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.hung_up = True
            raise CallerHungUp(f"connection lost during {words[0]}: {exc}") from None
        if response.code == 511:
            self.hung_up = True
            raise CallerHungUp(f"{words[0]} refused on a dead channel")
        if response.code != 200:
            raise AgiCommandError(text, response)
        if media and response.result == "-1":
            self.hung_up = True
            raise CallerHungUp(f"{words[0]} ended by a hang-up")
        return response

    async def _read_line(self) -> str:
        raw = await self.reader.readline()
        if not raw.endswith(b"\n"):
            raise asyncio.IncompleteReadError(raw, None)
        if len(raw) > MAX_LINE:
            raise AgiProtocolError(f"line of {len(raw)} bytes from Asterisk")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def _read_response(self) -> AgiResponse:
        while True:
            line = await self._read_line()
            if line == HANGUP_LINE:
                self.hung_up = True
                continue
            if not line:
                continue
            if is_block_start(line):
                lines = [line]
                while not lines[-1].startswith("520 "):
                    lines.append(await self._read_line())
                line = "\n".join(lines)
            self.input_at = time.perf_counter()
            return parse_response(line)

    # The commands the IVR uses -------------------------------------------------------------------

    async def answer(self) -> None:
        await self.command("ANSWER", media=True)

    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None:
        """Play a sound; returns the escape digit that stopped it, or None when it played out."""
        response = await self.command("STREAM FILE", sound, escape_digits, media=True)
        code = response.result_int or 0
        return chr(code) if code > 0 else None

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> Digits:
        """Play `sound` and collect up to `max_digits` digits (# ends early)."""
        response = await self.command("GET DATA", sound, str(timeout_ms), str(max_digits), media=True)
        return Digits(response.result, timed_out=response.data == "timeout")

    async def record_file(self, path: str, fmt: str, escape_digits: str, timeout_ms: int, silence_s: int) -> Recording:
        """Record to `path`.`fmt` after a beep, until an escape digit, silence or the time limit.
        A caller who hangs up at the end of the message is normal: the file is kept and returned."""
        words = ["RECORD FILE", path, fmt, escape_digits, str(timeout_ms), "0", "BEEP", f"s={silence_s}"]
        response = await self.command(*words)
        if response.data == "hangup":
            self.hung_up = True
        elif response.result == "-1":  # (writefile): Asterisk could not write the file
            raise AgiCommandError(format_command(*words), response)
        return Recording(response.data or "", int(response.extra.get("endpos", "0") or 0))

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, value)

    async def get_variable(self, name: str) -> str | None:
        response = await self.command("GET VARIABLE", name)
        return response.data if response.result == "1" else None

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", message, str(level))
