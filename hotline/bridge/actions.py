"""The bridge's side of the internal action API (see hotline.bridge_client for the protocol).

Requests are taken from Redis one at a time, checked, turned into AMI actions on the live
connection, and answered on the reply key. A request whose caller has already given up is dropped
unanswered rather than acted on late (nobody wants a phone to ring a minute after they clicked).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from hotline.ami.panoramisk_adapter import AmiActionError, AmiClient, AmiTimeout
from hotline.bridge_client import ALIVE_KEY, REQUESTS_KEY
from hotline.domain.call_tracker import CALLBACK_NUMBER_VARIABLE, CallTracker, member_interface
from hotline.logging_setup import mask_numbers

logger = logging.getLogger(__name__)

#: A phone number we are willing to dial: digits only after an optional +86 / 0086 prefix.
_NUMBER = re.compile(r"^(?:\+86|0086)?(\d{3,20})$")
_INTERFACE = re.compile(r"^(?:PJSIP|SIP|IAX2|Local)/[\w.@-]{1,60}$")
_QUEUE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EXTEN = re.compile(r"^[0-9*#+]{1,20}$")
HEARTBEAT_S = 5
HEARTBEAT_TTL_S = 15


class Invalid(Exception):
    pass


class NotConnected(Exception):
    pass


def _text(params: dict[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        raise Invalid(f"{what} 无效 / invalid {key}: {value!r}")
    return value


def _reason(params: dict[str, Any]) -> str:
    reason = params.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > 64 or any(c in reason for c in "\r\n"):
        raise Invalid("暂停原因无效 / invalid reason (one line, up to 64 characters)")
    return reason


class ActionServer:
    def __init__(
        self,
        client: aioredis.Redis,
        connection: Callable[[], AmiClient | None],
        tracker: CallTracker,
        *,
        node: str = "default",
        callback_context: str = "hotline-callback",
        transfer_context: str = "hotline-transfer",
        status: Callable[[], dict[str, Any]] = dict,
        action_timeout_s: float = 5.0,
    ) -> None:
        self.client = client
        self.connection = connection
        self.tracker = tracker
        self.node = node
        self.callback_context = callback_context
        self.transfer_context = transfer_context
        self.status = status
        self.action_timeout_s = action_timeout_s
        self.handled = 0
        self._beat = asyncio.Event()
        self._handlers: dict[str, Callable[[AmiClient, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "originate_callback": self._originate_callback,
            "queue_add": self._queue_add,
            "queue_remove": self._queue_remove,
            "queue_pause": self._queue_pause,
            "transfer": self._transfer,
            "record": self._record,
        }

    def register(self, action: str, handler: Callable[[AmiClient, dict[str, Any]], Awaitable[dict[str, Any]]]) -> None:
        """Add an action served on the live connection (the runner adds the roster's)."""
        self._handlers[action] = handler

    async def run(self) -> None:
        await asyncio.gather(self._heartbeat(), self._serve())

    def beat(self) -> None:
        """Write the heartbeat now (the link to Asterisk came up or went down: /api/health shows it)."""
        self._beat.set()

    async def _heartbeat(self) -> None:
        key = ALIVE_KEY.format(node=self.node)
        while True:
            self._beat.clear()
            try:
                await self.client.set(key, json.dumps(self.status(), default=str), ex=HEARTBEAT_TTL_S)
            except (redis.RedisError, OSError) as exc:
                logger.warning("bridge heartbeat not written: %s", exc)
            poked = asyncio.ensure_future(self._beat.wait())
            try:  # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                await asyncio.wait({poked}, timeout=HEARTBEAT_S)
            finally:
                poked.cancel()

    async def _serve(self) -> None:
        key = REQUESTS_KEY.format(node=self.node)
        while True:
            try:
                popped = await self.client.blpop([key], timeout=1)
            except (redis.RedisError, OSError) as exc:
                logger.warning("bridge requests not read (%s); retrying", exc)
                await asyncio.sleep(1)
                continue
            if popped is not None:
                await self.handle(popped[1])

    async def handle(self, raw: bytes | str) -> dict[str, Any] | None:
        try:
            request = json.loads(raw)
            reply_to = request["reply_to"]
            if not isinstance(reply_to, str) or not reply_to.startswith("hotline:bridge:reply:"):
                raise ValueError("bad reply key")
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("malformed bridge request skipped: %s", exc)
            return None
        if float(request.get("expires_at") or 0) < time.time():
            logger.info("bridge request %s (%s) expired unread; not acted on", request.get("id"), request.get("action"))
            return None
        reply = await self.execute(str(request.get("action")), request.get("params") or {})
        self.handled += 1
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.rpush(reply_to, json.dumps(reply, ensure_ascii=False))
            pipe.expire(reply_to, 60)
            await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            logger.warning("reply to %s not written: %s", request.get("id"), exc)
        return reply

    async def execute(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = self._handlers.get(action)
        try:
            if handler is None or not isinstance(params, dict):
                raise Invalid(f"未知操作 / unknown action {action!r}")
            client = self.connection()
            if client is None or not client.connected:
                raise NotConnected("未连接 Asterisk / not connected to Asterisk; try again shortly")
            return {"ok": True, "result": await handler(client, params)}
        except Invalid as exc:
            return _error("invalid", str(exc))
        except NotConnected as exc:
            return _error("unavailable", str(exc))
        except AmiTimeout as exc:
            return _error("timeout", f"Asterisk 未应答 / Asterisk did not answer {exc.action}: {exc.message}")
        except AmiActionError as exc:
            logger.info("Asterisk refused %s: %s", exc.action, mask_numbers(exc.message))
            return _error("refused", f"Asterisk 拒绝 / Asterisk refused {exc.action}: {exc.message}")

    # -- handlers ---------------------------------------------------------------------------------
    async def _originate_callback(self, client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        interface = _text(params, "lawyer_interface", _INTERFACE, "律师话机")
        match = _NUMBER.match(str(params.get("number", "")).replace(" ", "").replace("-", ""))
        if match is None:
            raise Invalid(f"电话号码无效 / not a phone number: {params.get('number')!r}")
        number = match[1]
        variables = params.get("variables") or {}
        if not isinstance(variables, dict) or not all(
            isinstance(k, str) and re.match(r"^[A-Z_][A-Z0-9_]{0,30}$", k) and isinstance(v, str) and "\n" not in v
            for k, v in variables.items()
        ):
            raise Invalid("变量无效 / invalid variables (NAME=value, upper-case names)")
        action_id = f"callback-{uuid.uuid4().hex[:16]}"
        await client.action(
            "Originate",
            timeout=self.action_timeout_s,
            ActionID=action_id,
            Channel=interface,
            Context=self.callback_context,
            Exten=number,
            Priority="1",
            CallerID=f'"12348 回访" <{number}>',
            Timeout="30000",
            Variable=[
                f"{k}={v}" for k, v in {"HOTLINE_CALLBACK": "1", **variables, CALLBACK_NUMBER_VARIABLE: number}.items()
            ],
        )
        logger.info("call-back originated from %s (%s)", interface, action_id)
        return {"action_id": action_id}

    async def _queue_add(self, client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        queue = _text(params, "queue", _QUEUE, "队列")
        interface = _text(params, "interface", _INTERFACE, "话机")
        fields = {"Queue": queue, "Interface": interface, "Penalty": str(int(params.get("penalty") or 0))}
        if params.get("member_name"):
            fields["MemberName"] = str(params["member_name"])[:64]
        response = await client.action("QueueAdd", timeout=self.action_timeout_s, **fields)
        return {"message": response.message}

    async def _queue_remove(self, client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        queue = _text(params, "queue", _QUEUE, "队列")
        interface = _text(params, "interface", _INTERFACE, "话机")
        response = await client.action("QueueRemove", timeout=self.action_timeout_s, Queue=queue, Interface=interface)
        return {"message": response.message}

    async def _queue_pause(self, client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        interface = _text(params, "interface", _INTERFACE, "话机")
        fields = {"Interface": interface, "Paused": "true" if params.get("paused") else "false"}
        reason = _reason(params)
        if reason:
            fields["Reason"] = reason
        if params.get("queue"):
            fields["Queue"] = _text(params, "queue", _QUEUE, "队列")
        response = await client.action("QueuePause", timeout=self.action_timeout_s, **fields)
        return {"message": response.message}

    def _caller_channel(self, params: dict[str, Any]) -> str:
        linkedid = params.get("linkedid")
        call = self.tracker.calls.get(linkedid) if isinstance(linkedid, str) else None
        if call is None:
            raise Invalid(f"通话不存在或已结束 / no call {linkedid!r} in progress")
        channel = call.channel_names.get(call.linkedid) or next(iter(call.channel_names.values()), "")
        if not channel or not call.open_channels:
            raise Invalid(f"通话 {linkedid} 已无通道 / call has no channel left")
        return channel

    async def _transfer(self, client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        """Blind transfer. Talking to a lawyer: AMI BlindTransfer on the lawyer's channel, the transfer
        a phone's own transfer key makes, so app_queue ends the lawyer's part there (queue_log
        BLINDTRANSFER, AgentComplete Reason=transfer, talk time up to the transfer). A Redirect of the
        caller's channel instead leaves app_queue counting the talk on until the caller hangs up
        elsewhere (seen on Asterisk 22). Not bridged to a lawyer: Redirect of the caller's channel."""
        channel = self._caller_channel(params)
        exten = _text(params, "exten", _EXTEN, "转接号码")
        context = params.get("context") or self.transfer_context
        if not isinstance(context, str) or not _QUEUE.match(context):
            raise Invalid(f"拨号方案上下文无效 / invalid context {context!r}")
        lawyer = self._lawyer_channel(params["linkedid"])
        if lawyer is not None:
            await client.action(
                "BlindTransfer", timeout=self.action_timeout_s, Channel=lawyer, Context=context, Exten=exten
            )
            return {"channel": channel, "exten": exten, "transferred_by": lawyer}
        await client.action(
            "Redirect", timeout=self.action_timeout_s, Channel=channel, Context=context, Exten=exten, Priority="1"
        )
        return {"channel": channel, "exten": exten}

    def _lawyer_channel(self, linkedid: str) -> str | None:
        """The answering lawyer's channel of a call talking now, if any."""
        call = self.tracker.calls[linkedid]
        if call.answered_at is None or call.agent_interface is None:
            return None
        return next(
            (
                name
                for uid, name in call.channel_names.items()
                if uid != call.linkedid and uid in call.open_channels and member_interface(name) == call.agent_interface
            ),
            None,
        )

    async def _record(self, client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._caller_channel(params)
        file = f"{params['linkedid']}.wav"
        await client.action("MixMonitor", timeout=self.action_timeout_s, Channel=channel, File=file, Options="b")
        return {"channel": channel, "file": file}


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": kind, "message": message}}
