"""Ask the bridge to act on Asterisk: click-to-call, queue membership, pause, transfer, record.

The web API and the jobs run in other processes (possibly on other machines) than the bridge that
holds the AMI connection, so requests travel through Redis: the client pushes a request onto the
bridge's list and waits on a reply key for at most `timeout` seconds. A bridge that is not running
is known at once from its heartbeat key, so nobody waits for nothing. Every failure is a
`BridgeError` whose `reason` says what happened in words a lawyer can act on.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

REQUESTS_KEY = "hotline:bridge:{node}:requests"
ALIVE_KEY = "hotline:bridge:{node}:alive"
REPLY_KEY = "hotline:bridge:reply:{id}"
DEFAULT_NODE = "default"


class BridgeError(Exception):
    """The bridge could not do it; `reason` is the explanation (Asterisk's own words when it refused)."""

    kind = "error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BridgeUnavailable(BridgeError):
    kind = "unavailable"


class BridgeTimeout(BridgeError):
    kind = "timeout"


class BridgeRefused(BridgeError):
    """Asterisk answered with an error (no such queue, not a member, the phone is unreachable…)."""

    kind = "refused"


class BridgeInvalid(BridgeError):
    """The request itself was wrong (a number that is not a phone number, an unknown action)."""

    kind = "invalid"


ERRORS: dict[str, type[BridgeError]] = {
    cls.kind: cls for cls in (BridgeUnavailable, BridgeTimeout, BridgeRefused, BridgeInvalid)
}


class BridgeClient:
    def __init__(self, client: redis.Redis, node: str = DEFAULT_NODE) -> None:
        self.client = client
        self.node = node

    def status(self) -> dict[str, Any] | None:
        """The bridge's heartbeat (connected, source, calls…), or None when no bridge is running."""
        raw = self.client.get(ALIVE_KEY.format(node=self.node))
        return None if raw is None else json.loads(raw)

    def request(self, action: str, params: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        try:
            if self.status() is None:
                raise BridgeUnavailable(
                    "呼叫桥接服务未运行 / the telephony bridge is not running (start `hotline bridge`)"
                )
            request_id = uuid.uuid4().hex
            reply_key = REPLY_KEY.format(id=request_id)
            request = {
                "id": request_id,
                "action": action,
                "params": params,
                "reply_to": reply_key,
                "expires_at": time.time() + timeout,
            }
            self.client.rpush(REQUESTS_KEY.format(node=self.node), json.dumps(request, ensure_ascii=False))
            answer = self.client.blpop([reply_key], timeout=max(1, round(timeout)))
        except redis.RedisError as exc:
            raise BridgeUnavailable(f"Redis 不可用 / Redis unavailable: {exc}") from None
        if answer is None:
            raise BridgeTimeout(f"呼叫桥接服务 {timeout:g} 秒内未应答 / no answer from the bridge within {timeout:g} s")
        reply = json.loads(answer[1])
        if reply.get("ok"):
            result: dict[str, Any] = reply.get("result") or {}
            return result
        error = reply.get("error") or {}
        raise ERRORS.get(error.get("kind", ""), BridgeError)(error.get("message") or "refused")

    # -- the actions --------------------------------------------------------------------------------
    def originate_callback(
        self,
        *,
        lawyer_interface: str,
        number: str,
        variables: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Ring the lawyer's phone, then dial the citizen (回访 / click-to-call); returns the ActionID
        that the call's OriginateResponse and its record carry."""
        result = self.request(
            "originate_callback",
            {"lawyer_interface": lawyer_interface, "number": number, "variables": variables or {}},
            timeout,
        )
        return str(result["action_id"])

    def queue_add(self, queue: str, interface: str, member_name: str = "", penalty: int = 0) -> dict[str, Any]:
        params = {"queue": queue, "interface": interface, "member_name": member_name, "penalty": penalty}
        return self.request("queue_add", params)

    def queue_remove(self, queue: str, interface: str) -> dict[str, Any]:
        return self.request("queue_remove", {"queue": queue, "interface": interface})

    def queue_pause(self, interface: str, paused: bool, reason: str = "", queue: str | None = None) -> dict[str, Any]:
        """Pause (with a reason such as 休息, 培训, 整理工单) or resume, in one queue or all of them."""
        return self.request("queue_pause", {"interface": interface, "paused": paused, "reason": reason, "queue": queue})

    def transfer(self, linkedid: str, exten: str, context: str | None = None) -> dict[str, Any]:
        """Blind-transfer the caller of a call (e.g. to the provincial line or 12345)."""
        return self.request("transfer", {"linkedid": linkedid, "exten": exten, "context": context})

    def reconcile_roster(self, timeout: float = 20.0) -> dict[str, Any]:
        """Bring queue membership in line with the roster now (after an import), not at the next minute."""
        return self.request("reconcile_roster", {}, timeout)

    def record(self, linkedid: str) -> dict[str, Any]:
        """Start recording a call (MixMonitor); returns the file name."""
        return self.request("record", {"linkedid": linkedid})


class RoutedBridgeClient(BridgeClient):
    """Several Asterisk nodes: each action goes to the bridge of the node it concerns. A lawyer's
    actions (click-to-call, pause) go to the node the lawyer's phone registers on (`home_of`, from
    users.node), else where the phone is a queue member now; a transfer goes where the call is, a
    roster pass to every node. Without a match: the only running bridge, else the default node's."""

    def __init__(self, client: redis.Redis, home_of: Callable[[str], str | None] | None = None) -> None:
        super().__init__(client, DEFAULT_NODE)
        self.home_of = home_of

    def _running_nodes(self) -> list[str]:
        from hotline.live.nodes import known_nodes

        return [n for n in known_nodes(self.client) if self.client.exists(ALIVE_KEY.format(node=n))]

    def _fallback(self) -> BridgeClient:
        running = self._running_nodes()
        return BridgeClient(self.client, running[0] if len(running) == 1 else DEFAULT_NODE)

    def for_interface(self, interface: str) -> BridgeClient:
        from hotline.live.nodes import find_agent

        home = self.home_of(interface) if self.home_of is not None else None
        if home is not None:
            return BridgeClient(self.client, home)
        found = find_agent(self.client, interface)
        return BridgeClient(self.client, found[0]) if found else self._fallback()

    def for_call(self, linkedid: str) -> BridgeClient:
        from hotline.live.nodes import find_call

        found = find_call(self.client, linkedid)
        return BridgeClient(self.client, found[0]) if found else self._fallback()

    def status(self) -> dict[str, Any] | None:
        return self._fallback().status()

    def originate_callback(
        self,
        *,
        lawyer_interface: str,
        number: str,
        variables: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> str:
        return self.for_interface(lawyer_interface).originate_callback(
            lawyer_interface=lawyer_interface, number=number, variables=variables, timeout=timeout
        )

    def queue_add(self, queue: str, interface: str, member_name: str = "", penalty: int = 0) -> dict[str, Any]:
        return self.for_interface(interface).queue_add(queue, interface, member_name, penalty)

    def queue_remove(self, queue: str, interface: str) -> dict[str, Any]:
        return self.for_interface(interface).queue_remove(queue, interface)

    def queue_pause(self, interface: str, paused: bool, reason: str = "", queue: str | None = None) -> dict[str, Any]:
        return self.for_interface(interface).queue_pause(interface, paused, reason, queue)

    def transfer(self, linkedid: str, exten: str, context: str | None = None) -> dict[str, Any]:
        return self.for_call(linkedid).transfer(linkedid, exten, context)

    def record(self, linkedid: str) -> dict[str, Any]:
        return self.for_call(linkedid).record(linkedid)

    def reconcile_roster(self, timeout: float = 20.0) -> dict[str, Any]:
        nodes = self._running_nodes() or [DEFAULT_NODE]
        results = {node: BridgeClient(self.client, node).reconcile_roster(timeout) for node in nodes}
        if len(results) == 1:
            return next(iter(results.values()))
        return {"nodes": results, **{k: sum(r.get(k, 0) for r in results.values()) for k in ("applied", "on_duty")}}
