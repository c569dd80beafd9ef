"""The Asterisk side of a FastAGI session, as recorded from Asterisk 22 (shared/fixtures/asterisk-22/agi),
for tests, the benchmark and demo mode: no Asterisk runs here.

A SimulatedCall connects like Asterisk does, sends the agi_* block, answers each command the way the
recordings show (200 result=…, 510, the 520 usage block, 511 on a dead channel), plays a scripted
caller (keys pressed, silences, a message spoken, a hang-up during a command or between commands),
and ends with the trailing HANGUP every session gets. tests/unit/ivr/test_asterisk_sim.py checks it
byte for byte against the recordings.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

SAMPLE_RATE = 8000
DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
UNKNOWN_COMMAND = "510 Invalid or unknown command"
#: Sound lengths in samples at 8 kHz (beep as recorded: 0.44 s); others are taken as 2 s.
SOUND_SAMPLES = {"beep": 3520}
DEFAULT_SOUND_SAMPLES = 2 * SAMPLE_RATE
#: Commands that need a live channel: after a hang-up they get 511 (as recorded in 11, 11b, 12b).
NEEDS_CHANNEL = {"ANSWER", "STREAM FILE", "GET DATA", "CHANNEL STATUS", "RECORD FILE", "WAIT FOR DIGIT"}
VERBS = (
    "GET FULL VARIABLE",
    "GET VARIABLE",
    "SET VARIABLE",
    "STREAM FILE",
    "GET DATA",
    "RECORD FILE",
    "WAIT FOR DIGIT",
    "CHANNEL STATUS",
    "ANSWER",
    "VERBOSE",
    "EXEC",
    "NOOP",
)
#: Arguments each verb needs at least (fewer gets the 520 usage block).
MIN_ARGS = {"STREAM FILE": 2, "GET DATA": 1, "RECORD FILE": 4, "WAIT FOR DIGIT": 1, "SET VARIABLE": 2}
MIN_ARGS.update({"GET VARIABLE": 1, "GET FULL VARIABLE": 1, "EXEC": 1, "VERBOSE": 1})


@dataclass(frozen=True)
class Press:
    """Keys pressed `after_s` into the prompt ("" = no key: the command times out)."""

    digits: str
    after_s: float = 0.5


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up `after_s` into the command that would take their input."""

    after_s: float = 0.5


@dataclass(frozen=True)
class Speak:
    """A message for RECORD FILE: `seconds` long, ended by `end` ("#", "hangup" or "silence")."""

    seconds: float = 5.0
    end: str = "#"


Action = Press | HangUp | Speak
SILENCE = Press("")


def as_action(value: str | Action) -> Action:
    if isinstance(value, str):
        return HangUp() if value == "hangup" else Press(value)
    return value


#: The agi_* block in the order Asterisk 22 sends it (values as in the recordings, some filled in).
ENV_KEYS = (
    "agi_network",
    "agi_network_script",
    "agi_request",
    "agi_channel",
    "agi_language",
    "agi_type",
    "agi_uniqueid",
    "agi_version",
    "agi_callerid",
    "agi_calleridname",
    "agi_callingpres",
    "agi_callingani2",
    "agi_callington",
    "agi_callingtns",
    "agi_dnid",
    "agi_rdnis",
    "agi_context",
    "agi_extension",
    "agi_priority",
    "agi_enhanced",
    "agi_accountcode",
    "agi_threadid",
)


def make_env(
    *,
    uniqueid: str,
    callerid: str,
    script: str = "ivr",
    channel: str | None = None,
    host: str = "127.0.0.1:4573",
    args: Sequence[str] = (),
    calleridname: str = "SIPp caller",
    threadid: str = "140207676323520",
) -> list[tuple[str, str]]:
    serial = uniqueid.rsplit(".", 1)[-1]
    values = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://{host}/{script}",
        "agi_channel": channel or f"PJSIP/sipp-in-{int(serial) if serial.isdigit() else 0:08x}",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid,
        "agi_version": "22.10.1",
        "agi_callerid": callerid,
        "agi_calleridname": calleridname,
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": "12348",
        "agi_rdnis": "unknown",
        "agi_context": "hotline-in",
        "agi_extension": "12348",
        "agi_priority": "4",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": threadid,
    }
    env = [(key, values[key]) for key in ENV_KEYS]
    # Arguments come after the standard block, as agi_arg_1, agi_arg_2, ...
    return env + [(f"agi_arg_{i}", arg) for i, arg in enumerate(args, 1)]


def encode_env(env: Sequence[tuple[str, str]]) -> bytes:
    return "".join(f"{key}: {value}\n" for key, value in env).encode() + b"\n"


def split_args(text: str) -> list[str]:
    """Arguments as Asterisk's AGI parser reads them: blanks separate, double quotes group, \\ escapes."""
    args: list[str] = []
    current: list[str] = []
    quoted = escaped = started = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = started = True
        elif char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        args.append("".join(current))
    return args


@dataclass
class Exchange:
    command: str
    response: str
    #: Seconds from this side's previous write (env block or response) to this command's arrival.
    server_seconds: float


@dataclass
class SimulatedCall:
    env: list[tuple[str, str]]
    #: What the caller does at each command that takes input, in order ("1", "" for silence, Press, ...).
    actions: Sequence[str | Action] = ()
    #: Hang up while the command with this index (0-based) runs, or just before it when it takes no input.
    hangup_at_command: int | None = None
    #: Hang up between commands: right after the response with this index (-1: right after the agi_* block).
    hangup_after_response: int | None = None
    #: Sleep before each response to a command that plays or listens (to pace a benchmark).
    media_delay_s: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    hung_up: bool = False
    received: bytearray = field(default_factory=bytearray)
    sent: bytearray = field(default_factory=bytearray)
    #: perf_counter() when the connection opened and when the server closed it.
    started_at: float | None = None
    ended_at: float | None = None

    def __post_init__(self) -> None:
        self._script: list[Action] = [as_action(a) for a in self.actions]
        env = dict(self.env)
        self.variables.setdefault("CHANNEL", env.get("agi_channel", ""))
        self.variables.setdefault("CALLERID(num)", env.get("agi_callerid", ""))
        self.variables.setdefault("UNIQUEID", env.get("agi_uniqueid", ""))

    @property
    def commands(self) -> list[str]:
        return [e.command for e in self.exchanges]

    async def run(self, host: str, port: int, timeout: float = 30.0) -> SimulatedCall:
        reader, writer = await asyncio.open_connection(host, port)
        self.started_at = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                await self._session(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
        return self

    def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        self.sent += data
        writer.write(data)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._write(writer, encode_env(self.env))
        if self.hangup_after_response == -1:
            self._hang_up(writer)
        last_write = time.perf_counter()
        index = 0
        while True:
            raw = await reader.readline()
            if not raw:
                self.ended_at = time.perf_counter()
                break  # the server closed: Asterisk says its last HANGUP and closes
            arrived = time.perf_counter()
            self.received += raw
            command = raw.decode().rstrip("\n")
            if self.hangup_at_command == index and not self.hung_up and _verb(command)[0] not in _LISTENS:
                self._hang_up(writer)
            response = await self._respond(command, index, writer)
            self.exchanges.append(Exchange(command, response, arrived - last_write))
            if self.hangup_after_response == index and not self.hung_up:
                self._hang_up(writer)
            await writer.drain()
            last_write = time.perf_counter()
            index += 1
        with contextlib.suppress(ConnectionError, OSError):
            self._write(writer, b"HANGUP\n")
            await writer.drain()

    def _hang_up(self, writer: asyncio.StreamWriter) -> None:
        self.hung_up = True
        self._write(writer, b"HANGUP\n")

    async def _respond(self, command: str, index: int, writer: asyncio.StreamWriter) -> str:
        verb, args = _verb(command)
        if verb is None:
            return self._send(writer, UNKNOWN_COMMAND)
        if len(args) < MIN_ARGS.get(verb, 0):
            usage = f"520-Invalid command syntax.  Proper usage follows:\nUsage: {verb} (arguments missing)\n"
            return self._send(writer, usage + "520 End of proper usage.")
        if self.hung_up and verb in NEEDS_CHANNEL:
            return self._send(writer, DEAD_CHANNEL)
        if self.media_delay_s and verb in NEEDS_CHANNEL:
            await asyncio.sleep(self.media_delay_s)
        if verb in _LISTENS:
            return self._send(writer, self._listen(verb, args, index), hangup_after=self.hung_up)
        return self._send(writer, self._simple(verb, args))

    def _send(self, writer: asyncio.StreamWriter, response: str, hangup_after: bool = False) -> str:
        self._write(writer, response.encode() + b"\n")
        if hangup_after:
            self._write(writer, b"HANGUP\n")
        return response

    def _simple(self, verb: str, args: list[str]) -> str:
        if verb == "SET VARIABLE":
            self.variables[args[0]] = args[1]
            return "200 result=1"
        if verb == "GET VARIABLE":
            value = self.variables.get(args[0])
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if verb == "GET FULL VARIABLE":
            expanded = re.sub(r"\$\{([^}]+)\}", lambda m: self.variables.get(m[1], ""), args[0])
            return f"200 result=1 ({expanded})"
        if verb == "CHANNEL STATUS":
            return "200 result=6"
        if verb == "VERBOSE":
            return "200 result=1"
        return "200 result=0"  # ANSWER, EXEC, NOOP

    def _next_action(self, index: int) -> Action:
        if self.hangup_at_command == index:
            return HangUp()
        return self._script.pop(0) if self._script else SILENCE

    def _listen(self, verb: str, args: list[str], index: int) -> str:
        """Commands that play or listen; a hang-up during them ends them with -1, then HANGUP."""
        if verb == "STREAM FILE":
            length = SOUND_SAMPLES.get(args[0].rsplit("/", 1)[-1], DEFAULT_SOUND_SAMPLES)
            upcoming = HangUp() if self.hangup_at_command == index else (self._script[0] if self._script else None)
            if isinstance(upcoming, HangUp):
                self._next_action(index)
                self.hung_up = True
                return f"200 result=-1 endpos={min(length, int(upcoming.after_s * SAMPLE_RATE))}"
            if isinstance(upcoming, Press) and len(upcoming.digits) == 1 and upcoming.digits in args[1]:
                self._script.pop(0)
                return f"200 result={ord(upcoming.digits)} endpos={min(length, int(upcoming.after_s * SAMPLE_RATE))}"
            return f"200 result=0 endpos={length}"
        action = self._next_action(index)
        if isinstance(action, HangUp):
            self.hung_up = True
            return "200 result=-1 (hangup) endpos=0" if verb == "RECORD FILE" else "200 result=-1"
        if verb == "RECORD FILE":
            speech = action if isinstance(action, Speak) else Speak()
            samples = int(speech.seconds * SAMPLE_RATE)
            if speech.end == "hangup":
                self.hung_up = True
                return f"200 result=-1 (hangup) endpos={samples}"
            if speech.end == "#":
                return f"200 result={ord('#')} (dtmf) endpos={samples}"
            return f"200 result=0 (timeout) endpos={samples}"
        digits = action.digits if isinstance(action, Press) else ""
        if verb == "WAIT FOR DIGIT":
            return f"200 result={ord(digits[0]) if digits else 0}"
        max_digits = int(args[2]) if len(args) > 2 and args[2].isdigit() else 1024
        digits = digits.split("#", 1)[0][:max_digits]
        pressed = isinstance(action, Press) and action.digits  # "#" alone: no digits, no timeout
        return f"200 result={digits}" if digits or pressed else "200 result= (timeout)"


_LISTENS = {"STREAM FILE", "GET DATA", "RECORD FILE", "WAIT FOR DIGIT"}


def _verb(command: str) -> tuple[str | None, list[str]]:
    for verb in VERBS:
        if command == verb or command.startswith(verb + " "):
            return verb, split_args(command[len(verb) :])
    return None, []
