"""The one place that works around panoramisk 1.4's defects. Everything else uses `AmiClient`.

1. `AMIProtocol.data_received` decodes each TCP read on its own with errors ignored, so a UTF-8
   character split across two reads (a Chinese CallerIDName) silently loses bytes. `SplitSafeProtocol`
   frames the byte stream with `hotline.ami.frames` first and decodes whole messages.
2. Actions whose answer reads like the start of a list ("Added interface to queue" for QueueAdd) wait
   for list items that never come, so their future never resolves. `AmiClient.action` always says
   whether an action is a list (`as_list`), and every action has a timeout.
3. Originate without an explicit `Async` raises KeyError inside the protocol and drops the
   connection. `AmiClient.action` always sets `Async`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from hotline.ami.frames import AmiMessage, Banner, FrameDecoder, FrameError

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
    pass


def to_panoramisk(message: AmiMessage) -> Message:
    headers: dict[str, Any] = {}
    for key, value in message.headers:
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    return Message(headers)


class SplitSafeProtocol(AMIProtocol):  # type: ignore[misc]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._decoder = FrameDecoder()

    def data_received(self, data: bytes) -> None:
        for frame in self._decoder.feed(data):
            if isinstance(frame, Banner):
                self.version = frame.version
            elif isinstance(frame, FrameError):
                logger.warning("AMI: skipped a malformed message (%s): %r", frame.reason, frame.raw[:120])
            else:
                if frame.skipped_lines:
                    logger.warning("AMI: %s with %d malformed line(s) skipped", frame.name, frame.skipped_lines)
                self.handle_message(to_panoramisk(frame))


EventHandler = Callable[[Message], Awaitable[None] | None]


class AmiClient:
    """An AMI connection: login, keep-alive pings and reconnects (panoramisk's), events, actions."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        ping_delay: int = 10,
        reconnect_timeout: int = 2,
    ) -> None:
        self.manager = Manager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            ping_delay=ping_delay,
            ping_interval=ping_delay,
            reconnect_timeout=reconnect_timeout,
            protocol_factory=SplitSafeProtocol,
            encoding="utf8",
        )

    def on_event(self, handler: Callable[[Message], Any]) -> None:
        """Call `handler(message)` for every event."""

        def dispatch(_manager: Manager, message: Message) -> Any:
            return handler(message)

        self.manager.register_event("*", dispatch)

    async def connect(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Connect and log in; raise AmiActionError when the credentials are refused."""
        self.manager.loop = asyncio.get_running_loop()
        await asyncio.wait_for(self.manager.connect(), timeout)
        await asyncio.sleep(0)  # panoramisk sends Login from the connect task's done-callback
        future = self.manager.authenticated_future
        if future is None:
            raise AmiActionError("Login", "no Login was sent (no username configured)")
        response = await asyncio.wait_for(future, timeout)
        if not response.success:
            self.close()
            raise AmiActionError("Login", response.message or "Authentication failed", response)

    def close(self) -> None:
        self.manager.close()

    async def action(self, name: str, timeout: float = DEFAULT_TIMEOUT_S, **fields: Any) -> Any:
        """Send one action and return its response (a list of messages for list actions)."""
        lowered = name.lower()
        action: dict[str, Any] = {"Action": name, **fields}
        if lowered == "originate":
            action.setdefault("Async", "true")
        future = self.manager.send_action(action, as_list=lowered in LIST_ACTIONS)
        try:
            response = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AmiTimeout(name, f"no answer within {timeout:g} s") from None
        first = response[0] if isinstance(response, list) else response
        if first.response in ("Error", "Fail", "Failure"):
            raise AmiActionError(name, first.message or first.response, response)
        return response
