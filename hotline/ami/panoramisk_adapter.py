"""The one place that works around panoramisk 1.4's defects. Everything else uses `AmiClient`.

panoramisk logs in and carries actions and their futures; this adapter fixes what it gets wrong:

1. `AMIProtocol.data_received` decodes each TCP read on its own with errors ignored, so a UTF-8
   character split across two reads (a Chinese CallerIDName) silently loses bytes. `SplitSafeProtocol`
   frames the byte stream with `hotline.ami.frames` first and decodes whole messages.
2. Actions whose answer reads like the start of a list ("Added interface to queue" for QueueAdd) wait
   for list items that never come, so their future never resolves. `AmiClient.action` always says
   whether an action is a list (`as_list`), and every action has a timeout.
3. Originate without an explicit `Async` raises KeyError inside the protocol and drops the
   connection. `AmiClient.action` always sets `Async`.
4. Its reconnect loop retries forever at a fixed interval and its pinger never checks the answer.
   Worse, a connect that fails schedules its own retry, so every failed attempt of ours left a
   Manager reconnecting and logging in by itself (six sessions after a 20 s outage, each feeding the
   same events). Here nothing retries behind the caller's back: `AmiClient.connect` opens exactly
   one TCP connection, and a lost connection is only reported; the bridge decides when to try again
   (hotline/bridge/service.py, hotline/bridge/resync.py) and resynchronises.
5. Its `connect()` sends Login from a done-callback and clears `authenticated_future` when the
   answer arrives, so a caller awaiting that future can find it already gone (under uvloop with a
   prompt Asterisk, 42 of 100 logins were reported as failed although Asterisk accepted them).
   `AmiClient.connect` sends Login itself and awaits the future it got back.

Events do not go through panoramisk's Message/dispatch at all: they are handed to a sink in stream
order, batched per TCP read, and parsed only when the sink's selector wants them (most of
Asterisk's events are VarSet/Newexten noise). List actions whose result must be applied at its exact
place in the event stream (CoreShowChannels, QueueStatus for a resync) are collected here and handed
to the same sink in order, as a `ListResult`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from hotline.ami.frames import (
    AmiMessage,
    Banner,
    FrameDecoder,
    FrameError,
    Keep,
    event_name,
    parse_fields,
    parse_message,
)

logger = logging.getLogger(__name__)

#: Actions answered by a list of events ended by `...Complete`.
LIST_ACTIONS = frozenset({"queuestatus", "queuesummary", "coreshowchannels", "status", "queuerule"})
DEFAULT_TIMEOUT_S = 5.0


class AmiActionError(Exception):
    """Asterisk refused an action; `message` is its reason (e.g. "Unable to add interface: Already there")."""

    def __init__(self, action: str, message: str, response: Any = None) -> None:
        super().__init__(f"Asterisk refused {action}: {message}")
        self.action = action
        self.message = message
        self.response = response


class AmiTimeout(AmiActionError):
    """No answer in time (Asterisk did not refuse anything)."""

    def __init__(self, action: str, message: str, response: Any = None) -> None:
        super().__init__(action, message, response)
        self.args = (f"{action}: {message}",)


class AmiConnectionLost(AmiActionError):
    """The connection is gone, or went before the answer came (Asterisk did not refuse anything)."""

    def __init__(self, action: str, message: str, response: Any = None) -> None:
        super().__init__(action, message, response)
        self.args = (f"{action}: {message}",)


@dataclass
class ListResult:
    """A list action's answer, delivered to the sink at the place in the stream where it completed."""

    action_id: str
    action: str
    response: dict[str, str]
    items: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


Item = dict[str, str] | ListResult
#: Called once per TCP read with the events (and list results) of that read, in order, and the
#: monotonic time the read arrived.
EventSink = Callable[[list[Item], float], None]
#: Looks at a message in place (buffer, start, stop) and says whether it is worth parsing at all.
Selector = Keep | None


def to_panoramisk(message: AmiMessage) -> Message:
    headers: dict[str, Any] = {}
    for key, value in message.headers:
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    return Message(headers)


#: Events that carry an ActionID but belong to the event stream: an Originate's outcome.
_LATE_EVENTS = frozenset({"OriginateResponse"})


class SplitSafeProtocol(AMIProtocol):  # type: ignore[misc]
    def __init__(self, manager: _Manager | None = None) -> None:
        super().__init__()
        self._manager = manager

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._decoder = FrameDecoder()
        self.skipped = 0
        if self._manager is not None:
            self._manager.attach(self)  # before any byte is read: the banner, then Login's answer

    def data_received(self, data: bytes) -> None:
        received_at = time.monotonic()
        client: AmiClient | None = getattr(self.factory, "client", None)
        sink = client.sink if client else None
        keep = client.selector if client and sink is not None else None
        ordered = client._ordered if client else {}
        batch: list[Item] = []
        for piece in self._decoder.split(data, keep):
            if isinstance(piece, bytes):
                name = event_name(piece)
                if name is not None and b"\r\nActionID: " not in piece:
                    if name == b"FullyBooted" and client is not None:
                        client.booted.set()
                    if sink is not None:
                        fields, bad = parse_fields(piece)
                        if bad:
                            logger.warning("AMI: %r with %d malformed line(s) skipped", name, bad)
                        batch.append(fields)
                    continue
                message = parse_message(piece)
                if isinstance(message, FrameError):
                    logger.warning("AMI: skipped a malformed message (%s): %r", message.reason, message.raw[:120])
                    continue
                action_id = message.get("ActionID")
                if action_id in ordered:
                    done = ordered[action_id].add(message)
                    if done is not None:
                        del ordered[action_id]
                        batch.append(done)
                elif action_id in self.responses:
                    if batch and sink is not None:  # keep events before the answer ahead of it
                        sink(batch, received_at)
                        batch = []
                    self.handle_message(to_panoramisk(message))
                elif message.kind == "event" and sink is not None and message.name in _LATE_EVENTS:
                    batch.append(message.as_dict())  # an OriginateResponse after its Originate resolved
            elif isinstance(piece, Banner):
                self.version = piece.version
            else:
                self.skipped += 1
                logger.warning("AMI: skipped a malformed message (%s): %r", piece.reason, piece.raw[:120])
        if batch and sink is not None:
            sink(batch, received_at)


class _Collector:
    def __init__(self, action: str, action_id: str) -> None:
        self.result = ListResult(action_id, action, {})
        self.future: asyncio.Future[ListResult] = asyncio.get_running_loop().create_future()

    def add(self, message: AmiMessage) -> ListResult | None:
        fields = message.as_dict()
        if message.kind == "response":
            self.result.response = fields
            if fields.get("Response") != "Success":
                self.result.error = fields.get("Message") or fields.get("Response") or "refused"
                return self._done()
            return None
        if fields.get("EventList", "").lower() == "complete":
            self.result.items.append(fields)  # ListItems lets the reader check nothing was lost
            return self._done()
        self.result.items.append(fields)
        return None

    def _done(self) -> ListResult:
        if not self.future.done():
            self.future.set_result(self.result)
        return self.result


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager as a holder of one protocol: no connect of its own (it retries and logs
    in behind our back), no reconnect on loss, no unchecked pinger."""

    client: AmiClient

    def connect(self, *_args: Any, **_kwargs: Any) -> Any:
        raise NotImplementedError("AmiClient.connect opens the connection")

    def connection_made(self, _future: Any) -> None:
        raise NotImplementedError("AmiClient.connect opens the connection")

    def attach(self, protocol: SplitSafeProtocol) -> None:
        """What panoramisk's connection_made does with a new protocol, without its Login and retries."""
        self._connected = True
        self.protocol = protocol
        protocol.queue = deque()
        protocol.factory = self
        protocol.log = self.log
        protocol.config = self.config
        protocol.encoding = self.encoding = self.config["encoding"]
        self.responses = protocol.responses = {}

    def ping(self) -> None:
        self.pinger = None  # the bridge pings and checks the answer itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.client._lost(exc)


_ids = itertools.count(1)


class AmiClient:
    """One AMI connection: login, actions with timeouts, events to a sink. No automatic reconnect."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        sink: EventSink | None = None,
        selector: Selector = None,
    ) -> None:
        self.manager = _Manager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            encoding="utf8",
        )
        self.manager.client = self
        self.sink = sink
        self.selector = selector
        self.lost = asyncio.Event()
        #: Asterisk sent FullyBooted: at once after Login when it is up, at the end of its start-up
        #: when it is still loading modules (actions such as QueueStatus are unknown until then).
        #: A selector must keep FullyBooted for this to be seen.
        self.booted = asyncio.Event()
        self._ordered: dict[str, _Collector] = {}

    def on_event(self, handler: Callable[[dict[str, str]], Any]) -> None:
        """Call `handler(fields)` for every event (convenience for tools and tests)."""

        def sink(items: list[Item], _at: float) -> None:
            for item in items:
                if isinstance(item, dict):
                    handler(item)

        self.sink = sink

    async def connect(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Open one TCP connection and log in, or raise: OSError (nobody listening), TimeoutError,
        AmiConnectionLost (closed before Login was answered), AmiActionError (credentials refused).

        Nothing is left behind when it fails: no retry, no second session."""
        self.lost.clear()
        loop = self.manager.loop = asyncio.get_running_loop()
        config = self.manager.config
        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can drop a cancellation
            await loop.create_connection(lambda: SplitSafeProtocol(self.manager), config["host"], config["port"])
        login = self.manager.send_action(
            {"Action": "Login", "Username": config["username"], "Secret": config["secret"], "Events": "on"}
        )
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({login, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not login.done():
            self.close()
            if self.lost.is_set():
                raise AmiConnectionLost("Login", "Asterisk closed the connection before answering Login")
            raise TimeoutError(f"Login not answered within {timeout:g} s")
        response = login.result()
        if not response.success:
            self.close()
            raise AmiActionError("Login", response.message or "Authentication failed", response)

    @property
    def connected(self) -> bool:
        return bool(self.manager._connected) and not self.lost.is_set()

    def close(self) -> None:
        self.manager.close()

    def pause_reading(self) -> None:
        transport = getattr(self.manager.protocol, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.pause_reading()

    def resume_reading(self) -> None:
        transport = getattr(self.manager.protocol, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.resume_reading()

    def _lost(self, exc: Exception | None) -> None:
        if not self.lost.is_set():
            logger.warning("AMI connection lost%s", f": {exc}" if exc else "")
        self.lost.set()
        for collector in self._ordered.values():
            if not collector.future.done():
                collector.future.set_exception(AmiConnectionLost(collector.result.action, "connection lost"))
        self._ordered.clear()

    async def action(self, name: str, timeout: float = DEFAULT_TIMEOUT_S, **fields: Any) -> Any:
        """Send one action and return its response (a list of messages for list actions)."""
        if self.lost.is_set() or self.manager.protocol is None:
            raise AmiConnectionLost(name, "not connected to Asterisk")
        lowered = name.lower()
        action: dict[str, Any] = {"Action": name, **fields}
        if lowered == "originate":
            action.setdefault("Async", "true")
        future = self.manager.send_action(action, as_list=lowered in LIST_ACTIONS)
        try:
            async with asyncio.timeout(timeout):
                response = await future
        except TimeoutError:
            raise AmiTimeout(name, f"no answer within {timeout:g} s") from None
        first = response[0] if isinstance(response, list) else response
        if first.response in ("Error", "Fail", "Failure"):
            raise AmiActionError(name, first.message or first.response, response)
        return response

    async def ordered_list(self, name: str, timeout: float = DEFAULT_TIMEOUT_S, **fields: str) -> ListResult:
        """Send a list action whose result is also handed to the sink at its place in the event stream."""
        protocol = self.manager.protocol
        if self.lost.is_set() or protocol is None:
            raise AmiConnectionLost(name, "not connected to Asterisk")
        action_id = f"hotline-{name.lower()}-{next(_ids)}"
        collector = self._ordered[action_id] = _Collector(name, action_id)
        lines = [f"Action: {name}", f"ActionID: {action_id}", *(f"{k}: {v}" for k, v in fields.items())]
        protocol.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            async with asyncio.timeout(timeout):
                result = await asyncio.shield(collector.future)
        except TimeoutError:
            self._ordered.pop(action_id, None)
            raise AmiTimeout(name, f"no answer within {timeout:g} s") from None
        if result.error is not None:
            raise AmiActionError(name, result.error, result)
        return result
