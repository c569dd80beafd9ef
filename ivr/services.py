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

from hotline.config.files import HotlineConfig, QueueHours
from ivr.blocking import CallerGuard
from ivr.hours import ServiceHours
from ivr.menu_config import IvrFile
from ivr.prompts import PromptFiles
from ivr.waiting import LIVE_QUEUES_KEY, QueueSnapshot, parse_snapshot
from ticketing.domain.policy import TicketPolicy

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


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

    async def run_db(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Database work in a worker thread, so one slow query never stalls other callers' menus."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    async def live_queue(self, queue: str) -> QueueSnapshot | None:
        try:
            raw: Any = await self.redis.hget(LIVE_QUEUES_KEY, queue)
        except (aioredis.RedisError, OSError) as exc:
            logger.warning("live state of queue %s unavailable (%s): no wait announced", queue, exc)
            return None
        return parse_snapshot(raw, queue)

    def queue_hours(self, name: str) -> QueueHours | None:
        return next((q for q in self.hotline.service_hours.queues if q.name == name), None)

    def sound(self, prompt: str, language: str | None) -> str:
        return self.prompts.sound(prompt, language)
