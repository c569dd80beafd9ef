"""The live model projected into Redis, and the event feed the consoles follow.

Keys (all JSON values):
  hotline:live:calls   hash  Linkedid -> call view (state, queue, lawyer, times; the caller number is
                             kept here for screen-pop and masked by the API per role)
  hotline:live:agents  hash  interface -> lawyer view (state, pause reason, queues, since)
  hotline:live:queues  hash  queue -> snapshot {queue, waiting, oldest_joined_at, members_on_duty,
                             members_available, members_paused, talking, avg_handle_s, updated_at};
                             the IVR reads it for estimated waits and "no lawyer on duty"
  hotline:live:meta    hash  source (asterisk/simulator), connected, last event time, epoch
  hotline:feed         stream  {"data": JSON} entries: call / agent / queue changes (numbers masked)

With several Asterisk nodes each bridge (HOTLINE_NODE) writes its own copy of these hashes,
`hotline:live:NODE:calls` and so on (the node "default" keeps the names above), and adds its name to
the set `hotline:live:nodes`; readers merge the nodes (hotline.live.nodes). A bridge's full rewrite
therefore never touches another node's state.

Redis is a projection, never the source: each flush checks that the epoch key still exists, and
when it does not (Redis restarted or was flushed) or a flush failed, the next flush rewrites it all.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

from hotline.live.calls import call_view
from hotline.live.feed import append_to_feed
from hotline.live.model import Changes, LiveModel
from ticketing.domain.roles import mask_phone

logger = logging.getLogger(__name__)

CALLS_KEY = "hotline:live:calls"
AGENTS_KEY = "hotline:live:agents"
QUEUES_KEY = "hotline:live:queues"
META_KEY = "hotline:live:meta"
#: Sorted set: node -> when its bridge last published or checked (every tick). Readers merge the
#: nodes seen within NODE_STALE_S, so a node taken out of service leaves the wallboard by itself.
NODES_KEY = "hotline:live:nodes"
NODE_STALE_S = 60.0
DEFAULT_NODE = "default"


@dataclass(frozen=True)
class LiveKeys:
    calls: str
    agents: str
    queues: str
    meta: str


def live_keys(node: str = DEFAULT_NODE) -> LiveKeys:
    if node == DEFAULT_NODE:
        return LiveKeys(CALLS_KEY, AGENTS_KEY, QUEUES_KEY, META_KEY)
    return LiveKeys(*(f"hotline:live:{node}:{part}" for part in ("calls", "agents", "queues", "meta")))


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class LivePublisher:
    def __init__(
        self,
        client: aioredis.Redis,
        model: LiveModel,
        source: str,
        clock: Callable[[], float] = time.time,
        node: str = DEFAULT_NODE,
    ) -> None:
        self.client = client
        self.node = node
        self.keys = live_keys(node)
        self.model = model
        self.source = source
        self.clock = clock
        self.epoch = uuid.uuid4().hex
        self.needs_full = True
        self.failures = 0
        self.connected = False
        self._call_states: dict[str, tuple[Any, ...]] = {}
        self._agent_states: dict[str, tuple[Any, ...]] = {}
        self._queue_states: dict[str, tuple[Any, ...]] = {}

    async def publish(self, changes: Changes, extra_feed: list[dict[str, Any]] | None = None) -> bool:
        """Write what changed (everything after a Redis loss); False when Redis is unreachable."""
        extra = extra_feed or []
        try:
            if self.needs_full:
                await self._publish_all(extra)
                self.needs_full = False
            elif changes or extra:
                pipe = self.client.pipeline(transaction=False)
                self._stage(pipe, changes, extra)
                pipe.exists(self.keys.meta)
                results = await pipe.execute()
                if not results[-1]:
                    logger.warning("live state vanished from Redis (restart or flush); writing it again")
                    await self._publish_all()
        except (redis.RedisError, OSError) as exc:
            self.failures += 1
            self.needs_full = True
            if self.failures == 1 or self.failures % 100 == 0:
                logger.warning("live state not published (attempt %d): %s", self.failures, exc)
            return False
        if self.failures:
            logger.info("Redis back after %d failed publish attempt(s); live state rewritten", self.failures)
            self.failures = 0
        return True

    async def check(self) -> None:
        """Notice a Redis that lost the live state while nothing changed (restart, flush)."""
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.exists(self.keys.meta)
            pipe.zadd(NODES_KEY, {self.node: self.clock()})
            exists, _ = await pipe.execute()
            if not exists:
                self.needs_full = True
        except (redis.RedisError, OSError):
            self.needs_full = True

    def _stage(self, pipe: Any, changes: Changes, extra: Sequence[dict[str, Any]] = ()) -> None:
        """Queue the writes for what changed, and the feed entries they make (after `extra` ones)."""
        now = self.clock()
        feed: list[dict[str, Any]] = [{**entry, "at": now} for entry in extra]
        model = self.model
        for linkedid in changes.calls:
            call = model.calls.get(linkedid)
            if call is None:
                pipe.hdel(self.keys.calls, linkedid)
                if self._call_states.pop(linkedid, None) is not None:
                    feed.append({"type": "call", "linkedid": linkedid, "state": "ended", "at": now})
                continue
            view = call_view(call)
            pipe.hset(self.keys.calls, linkedid, _json(view))
            key = (view["state"], view["queue"], view["agent_interface"])
            if self._call_states.get(linkedid) != key:
                self._call_states[linkedid] = key
                feed.append(
                    {
                        "type": "call",
                        "linkedid": linkedid,
                        "state": view["state"],
                        "queue": view["queue"],
                        "agent": view["agent_interface"],
                        "caller": mask_phone(view["caller_number"]),
                        "at": now,
                    }
                )
        for interface in changes.agents:
            agent = model.agents.get(interface)
            if agent is None:
                pipe.hdel(self.keys.agents, interface)
                if self._agent_states.pop(interface, None) is not None:
                    feed.append({"type": "agent", "interface": interface, "state": "off_duty", "at": now})
                continue
            view = agent.view()
            pipe.hset(self.keys.agents, interface, _json(view))
            key = (view["state"], view["reason"], tuple(view["queues"]))
            if self._agent_states.get(interface) != key:
                self._agent_states[interface] = key
                feed.append(
                    {"type": "agent", "interface": interface, "name": view["name"], "state": view["state"],
                     "reason": view["reason"], "at": now}
                )  # fmt: skip
        for snapshot in model.queue_snapshots(changes.queues, now):
            queue = snapshot["queue"]
            pipe.hset(self.keys.queues, queue, _json(snapshot))
            key = tuple(v for k, v in snapshot.items() if k != "updated_at")
            if self._queue_states.get(queue) != key:
                self._queue_states[queue] = key
                feed.append({"type": "queue", **snapshot, "at": now})
        for entry in feed:
            if self.node != DEFAULT_NODE:
                entry["node"] = self.node  # the wallboard tells the nodes' queues and calls apart
            append_to_feed(pipe, entry)

    async def _publish_all(self, extra: Sequence[dict[str, Any]] = ()) -> None:
        model = self.model
        now = self.clock()
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.calls, self.keys.agents, self.keys.queues)
        self._call_states.clear()
        self._agent_states.clear()
        self._queue_states.clear()
        everything = Changes(calls=set(model.calls), agents=set(model.agents), queues=set(model.queue_names))
        self._stage(pipe, everything, extra)
        pipe.hset(self.keys.meta, mapping={"source": self.source, "epoch": self.epoch, "rewritten_at": now})
        pipe.zadd(NODES_KEY, {self.node: now})
        await pipe.execute()

    async def set_meta(self, **fields: Any) -> None:
        try:
            await self.client.hset(self.keys.meta, mapping={k: str(v) for k, v in fields.items()})
        except (redis.RedisError, OSError) as exc:
            self.needs_full = True
            logger.warning("live state meta not written: %s", exc)
