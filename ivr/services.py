"""Everything an IVR session uses, built once per server in start_ivr_server and shared by sessions."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from ivr.blocking import CallerGuard
from ivr.caller_lookup import CallerLookup
from ivr.hours import ServiceHours
from ivr.menu_config import IvrFile
from ivr.prompts import PromptFiles
from ivr.recorder import SessionRecorder
from ivr.waiting import LIVE_QUEUES_KEY, QueueSnapshot, parse_snapshot
from settings.files import HotlineConfig, QueueHours
from ticketing.domain.policy import TicketPolicy

logger = logging.getLogger(__name__)

P = ParamSpec("P")
#: The live queue state is read at most this often; every session in between shares the copy.
LIVE_REFRESH_S = 1.0
R = TypeVar("R")


class LiveQueues:
    """The bridge's live queue hash, fetched whole at most once per LIVE_REFRESH_S and shared by all
    sessions (one HGETALL a second instead of one HGET per caller). Errors mean "unknown". With
    several Asterisk nodes it reads its own node's queues: callers wait in the node they called."""

    def __init__(self, redis: aioredis.Redis, key: str = LIVE_QUEUES_KEY, refresh_s: float = LIVE_REFRESH_S) -> None:
        self.redis = redis
        self.key = key
        self.refresh_s = refresh_s
        self._fields: dict[str, bytes] = {}
        self._fetched_at = float("-inf")
        self._fetching: asyncio.Task[None] | None = None

    async def get(self, queue: str) -> bytes | None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._fetched_at > self.refresh_s:
            if self._fetching is None or self._fetching.done():
                self._fetching = asyncio.create_task(self._fetch())
            await asyncio.shield(self._fetching)
        return self._fields.get(queue)

    async def _fetch(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            raw: Any = await self.redis.hgetall(self.key)
            self._fields = {key.decode(): value for key, value in raw.items()}
        except (aioredis.RedisError, OSError) as exc:
            logger.warning("live queue state unavailable (%s): no waits announced", exc)
            self._fields = {}
        self._fetched_at = loop.time()


@dataclass
class IvrServices:
    config: IvrFile
    hotline: HotlineConfig
    hours: ServiceHours
    prompts: PromptFiles
    guard: CallerGuard
    redis: aioredis.Redis
    sessions: sessionmaker[Session]
    policy: TicketPolicy
    executor: ThreadPoolExecutor
    clock: Callable[[], datetime]
    recorder: SessionRecorder
    live: LiveQueues
    callers: CallerLookup

    async def run_db(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Database work in a worker thread, so one slow query never stalls other callers' menus."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    async def live_queue(self, queue: str) -> QueueSnapshot | None:
        return parse_snapshot(await self.live.get(queue), queue)

    def queue_hours(self, name: str) -> QueueHours | None:
        return next((q for q in self.hotline.service_hours.queues if q.name == name), None)

    def sound(self, prompt: str, language: str | None) -> str:
        return self.prompts.sound(prompt, language)
