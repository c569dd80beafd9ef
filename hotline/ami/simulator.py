"""An AMI server that behaves like Asterisk 22 as recorded in shared/fixtures/asterisk-22.

It speaks the protocol: the banner, Login (a failure answers after 1 s and then closes the socket),
Ping, Logoff, `Permission denied` before Login, the unknown-command error, and canned responses for
other actions, each with the caller's ActionID. It replays recorded event streams byte for byte to
every logged-in client that asked for events, at recorded speed or faster. Tests use it in place of
Asterisk; demo mode will use it to show live activity, labelled as simulated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hotline.ami.frames import CLIENT_KINDS, AmiMessage, FrameDecoder, FrameError, parse_fields
from hotline.ami.sim_state import SimState

logger = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
#: Asterisk sleeps this long before answering a failed Login, then hangs up.
LOGIN_FAILURE_DELAY_S = 1.0


#: As Asterisk 22 words it (trace 01-login-ok), after Login or at the end of its start-up.
FULLY_BOOTED = [("Event", "FullyBooted"), ("Privilege", "system,all"), ("Status", "Fully Booted")]


def encode(headers: list[tuple[str, str]]) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in headers).encode() + b"\r\n"


#: Answers to actions the simulator keeps no state for: as in traces 06 and 08, and Redirect's and
#: BlindTransfer's acknowledgements as Asterisk's manager.c words them (no trace has one).
CANNED: dict[str, list[tuple[str, str]]] = {
    "originate": [("Message", "Originate successfully queued")],
    "redirect": [("Message", "Redirect successful")],
    "blindtransfer": [("Message", "Transfer succeeded")],
    "mixmonitor": [],
    "stopmixmonitor": [],
    "hangup": [("Message", "Channel Hungup")],
}


@dataclass(frozen=True)
class RecordedMessage:
    t: float
    raw: bytes
    kind: str
    name: str


def load_trace(ami_file: Path) -> list[RecordedMessage]:
    """The messages of a recorded `.ami` file with their arrival times from its `.jsonl` index."""
    data = ami_file.read_bytes()
    index = [json.loads(line) for line in ami_file.with_suffix(".jsonl").read_text().splitlines()]
    return [RecordedMessage(e["t"], data[e["offset"] : e["offset"] + e["length"]], e["kind"], e["name"]) for e in index]


@dataclass(frozen=True)
class HandlerReply:
    """A handler's answer: `to_sender` (response, list items), then `events` for every listening client."""

    to_sender: list[bytes]
    events: list[bytes] = field(default_factory=list)


class ActionHandler(Protocol):
    """Stateful behaviour plugged into the simulator (queue membership: hotline.ami.sim_queues)."""

    def answer(self, action: AmiMessage) -> HandlerReply | None:
        """The reply to `action`, or None when the action is not this handler's."""

    def observe(self, event: dict[str, str], now: float) -> None:
        """Learn from an event the simulator sends (a call joining a queue, a member added…)."""


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    logged_in: bool = False
    events: bool = True


@dataclass
class AmiSimulator:
    username: str = "hotline"
    secret: str = "hotline-secret"
    #: Action name (lower case) -> response headers after Response/ActionID, for canned answers.
    canned: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: dict(CANNED))
    clock: Callable[[], float] = time.time
    #: Called after an action (lower case) was answered, e.g. to start the call an Originate asked for.
    after_action: dict[str, Callable[[AmiMessage], Awaitable[None]]] = field(default_factory=dict)
    #: Actions (lower case) never answered: an Asterisk that has stopped responding.
    silent: set[str] = field(default_factory=set)
    #: False: connections are closed as soon as they open, as when Asterisk is down.
    accepting: bool = True
    #: False: Asterisk still starting. Logins are accepted, but FullyBooted waits for `boot()` and
    #: the queue actions are unknown (app_queue is not loaded yet).
    booted: bool = True
    #: Learn channels and queues from the events sent, to answer CoreShowChannels and QueueStatus.
    track_state: bool = True
    state: SimState = field(default_factory=SimState)
    #: The latest actions clients sent (what Asterisk would have been asked), oldest first.
    received: deque[AmiMessage] = field(default_factory=lambda: deque(maxlen=1000))
    #: Asked in order before the canned answers, for logged-in clients.
    handlers: list[ActionHandler] = field(default_factory=lambda: _default_handlers())
    _clients: list[_Client] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, host, port)
        sockname = self._server.sockets[0].getsockname()
        return sockname[0], sockname[1]

    async def close(self) -> None:
        await self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop_connections(self) -> None:
        """Close every client socket, as when Asterisk restarts or the network fails."""
        for client in list(self._clients):
            client.writer.close()
            with contextlib.suppress(ConnectionError):
                await client.writer.wait_closed()
        self._clients.clear()

    async def boot(self) -> None:
        """Finish starting: the queue actions work, and every session gets FullyBooted."""
        self.booted = True
        for client in list(self._clients):
            if client.logged_in and client.events:
                client.writer.write(encode(FULLY_BOOTED))

    @property
    def logged_in_clients(self) -> int:
        return sum(1 for c in self._clients if c.logged_in)

    async def send_event(self, raw: bytes) -> None:
        if self.track_state:
            fields, now = parse_fields(raw)[0], self.clock()
            self.state.observe(fields, now)
            for handler in self.handlers:
                handler.observe(fields, now)
        for client in list(self._clients):
            if client.logged_in and client.events:
                client.writer.write(raw)
        for client in list(self._clients):
            with contextlib.suppress(ConnectionError):
                await client.writer.drain()

    async def play(self, messages: list[RecordedMessage], speed: float = 1.0) -> int:
        """Send the events of a recording, keeping their spacing divided by `speed` (0: no pauses)."""
        events = [m for m in messages if m.kind == "event"]
        started = asyncio.get_running_loop().time()
        first = events[0].t if events else 0.0
        for message in events:
            if speed > 0:
                due = started + (message.t - first) / speed
                delay = due - asyncio.get_running_loop().time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.send_event(message.raw)
        return len(events)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.close()
            return
        client = _Client(writer)
        self._clients.append(client)
        writer.write(BANNER)
        decoder = FrameDecoder(kinds=CLIENT_KINDS, expect_banner=False)
        try:
            while data := await reader.read(65536):
                for frame in decoder.feed(data):
                    if isinstance(frame, FrameError):
                        # Asterisk ignores what it cannot parse; so do we, but say so.
                        logger.warning("simulator: unparsable client message skipped: %s", frame.reason)
                        continue
                    self.received.append(frame)
                    if not await self._answer(client, frame):
                        return
                    hook = self.after_action.get((frame.get("Action") or "").lower())
                    if hook is not None and client.logged_in:
                        await hook(frame)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            if client in self._clients:
                self._clients.remove(client)
            writer.close()

    async def _answer(self, client: _Client, action: AmiMessage) -> bool:
        """Reply to one action; False when the connection is to be closed."""
        name = (action.get("Action") or "").strip()
        lowered = name.lower()
        action_id = [("ActionID", action_id)] if (action_id := action.get("ActionID")) is not None else []
        write = client.writer.write
        if lowered == "login":
            if action.get("Username") == self.username and action.get("Secret") == self.secret:
                client.logged_in = True
                client.events = (action.get("Events") or "on").lower() not in ("off", "no", "0", "false")
                write(encode([("Response", "Success"), *action_id, ("Message", "Authentication accepted")]))
                if client.events and self.booted:
                    write(encode(FULLY_BOOTED))
                return True
            await asyncio.sleep(LOGIN_FAILURE_DELAY_S)
            write(encode([("Response", "Error"), *action_id, ("Message", "Authentication failed")]))
            await client.writer.drain()
            return False
        if lowered in self.silent:
            return True
        if not client.logged_in:
            write(encode([("Response", "Error"), *action_id, ("Message", "Permission denied")]))
        elif not self.booted and lowered.startswith("queue"):
            message = f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
            write(encode([("Response", "Error"), *action_id, ("Message", message)]))
        elif lowered == "ping":
            write(encode([("Response", "Success"), *action_id, ("Ping", "Pong"), ("Timestamp", f"{self.clock():.6f}")]))
        elif lowered == "logoff":
            write(encode([("Response", "Goodbye"), *action_id, ("Message", "Thanks for all the fish.")]))
            await client.writer.drain()
            return False
        elif (reply := next(filter(None, (h.answer(action) for h in self.handlers)), None)) is not None:
            write(b"".join(reply.to_sender))
            for event in reply.events:
                await self.send_event(event)
        elif lowered in _LISTS:
            items = _LISTS[lowered](self, action)
            first_word, message = _LIST_WORDING[lowered]
            write(encode([("Response", "Success"), *action_id, ("EventList", "start"), ("Message", message)]))
            for item in items:
                write(encode([item[0], *action_id, *item[1:]]))  # CoreShowChannel carries its ActionID second
            write(encode([("Event", f"{first_word}Complete"), *action_id, ("EventList", "Complete"),
                          ("ListItems", str(len(items)))]))  # fmt: skip
        elif lowered in self.canned:
            write(encode([("Response", "Success"), *action_id, *self.canned[lowered]]))
        else:
            message = f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
            write(encode([("Response", "Error"), *action_id, ("Message", message)]))
        return True


_LISTS: dict[str, Callable[[AmiSimulator, AmiMessage], list[list[tuple[str, str]]]]] = {
    "coreshowchannels": lambda sim, _action: sim.state.core_show_channels(sim.clock()),
}
#: The Complete event's prefix and the start message, as Asterisk 22 words them (trace 05).
_LIST_WORDING = {
    "coreshowchannels": ("CoreShowChannels", "Channels will follow"),
}


def _default_handlers() -> list[ActionHandler]:
    from hotline.ami.sim_queues import SimQueues  # it builds on this module's HandlerReply

    return [SimQueues([])]
