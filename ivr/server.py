"""A small asyncio FastAGI server: one task per Asterisk connection, scripts chosen by URL path.

Asterisk connects for `AGI(agi://host:port/<script>)`, sends the agi_* block and then waits for
commands; when the script is done the server half-closes its side, reads Asterisk's final `HANGUP`
and the end of the stream, and closes. Each session is isolated: whatever one does or fails at,
the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ivr.channel import MAX_LINE, AgiChannel
from ivr.protocol import HANGUP_LINE, AgiProtocolError, parse_env_line

logger = logging.getLogger(__name__)

Script = Callable[[AgiChannel], Awaitable[object]]

ENV_TIMEOUT_S = 10.0
#: How long to wait for Asterisk's closing HANGUP and end of stream after the script is done.
CLOSE_TIMEOUT_S = 5.0
MAX_ENV_LINES = 200
#: No call spends this long in the IVR; a session still open then is stuck (Asterisk gone silent).
SESSION_TIMEOUT_S = 3600.0


@dataclass
class AgiStats:
    """Sessions served and the time the server takes per command (from Asterisk's previous line
    read to the next command written), kept for the most recent commands."""

    sessions: int = 0
    failed_sessions: int = 0
    rejected_sessions: int = 0
    commands: int = 0
    command_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=1_000_000))

    def record_command(self, seconds: float) -> None:
        self.commands += 1
        self.command_seconds.append(seconds)

    def percentile(self, p: float) -> float | None:
        if not self.command_seconds:
            return None
        ordered = sorted(self.command_seconds)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict[str, float | int | None]:
        return {
            "sessions": self.sessions,
            "failed_sessions": self.failed_sessions,
            "rejected_sessions": self.rejected_sessions,
            "commands": self.commands,
            "p50_ms": _ms(self.percentile(50)),
            "p99_ms": _ms(self.percentile(99)),
            "max_ms": _ms(max(self.command_seconds, default=None)),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


async def read_env(reader: asyncio.StreamReader) -> dict[str, str]:
    """The agi_* block up to its empty line."""
    env: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if not raw.endswith(b"\n"):
            raise AgiProtocolError("connection closed before the agi_* block ended")
        if len(raw) > MAX_LINE or len(env) > MAX_ENV_LINES:
            raise AgiProtocolError("agi_* block too large")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if not env:
                raise AgiProtocolError("empty agi_* block")
            return env
        if line == HANGUP_LINE:
            continue
        key, value = parse_env_line(line)
        env[key] = value


class FastAgiServer:
    def __init__(self, scripts: Mapping[str, Script], *, session_timeout: float = SESSION_TIMEOUT_S) -> None:
        self.scripts = dict(scripts)
        self.stats = AgiStats()
        self.session_timeout = session_timeout
        self.server: asyncio.Server | None = None
        self.sessions: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> asyncio.Server:
        # A burst of calls opens many sessions at once: a deep backlog keeps them from waiting on SYN retries.
        self.server = await asyncio.start_server(self._serve, host, port, limit=MAX_LINE * 2, backlog=1024)
        return self.server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.sessions.add(task)
        uniqueid = "?"
        try:
            try:
                async with asyncio.timeout(ENV_TIMEOUT_S):  # keeps a cancellation, unlike wait_for on 3.11
                    env = await read_env(reader)
            except (TimeoutError, AgiProtocolError, ConnectionError) as exc:
                self.stats.rejected_sessions += 1
                logger.warning("FastAGI connection from %s dropped: %s", _peer(writer), exc)
                return
            uniqueid = env.get("agi_uniqueid", "?")
            name = env.get("agi_network_script", "").strip("/")
            script = self.scripts.get(name)
            if script is None:
                self.stats.rejected_sessions += 1
                logger.warning(
                    "call %s asked for AGI script %r; this server has %s: the dialplan goes on without it",
                    uniqueid,
                    name,
                    ", ".join(sorted(self.scripts)),
                )
                return
            self.stats.sessions += 1
            channel = AgiChannel(reader, writer, env, on_command=self.stats.record_command)
            try:
                async with asyncio.timeout(self.session_timeout):
                    await script(channel)
            except TimeoutError:
                self.stats.failed_sessions += 1
                logger.warning("call %s: AGI session still open after %.0f s; closed", uniqueid, self.session_timeout)
            except Exception:
                self.stats.failed_sessions += 1
                logger.exception("call %s: AGI script %s failed", uniqueid, name)
        finally:
            await _close(reader, writer, uniqueid)
            self.sessions.discard(task)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, uniqueid: str) -> None:
    """Half-close, let Asterisk say its last HANGUP and close its side, then close."""
    started = time.monotonic()
    with contextlib.suppress(ConnectionError, OSError, RuntimeError):
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    while await reader.read(4096):
                        pass
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()
    logger.debug("call %s: AGI connection closed after %.3f s", uniqueid, time.monotonic() - started)
