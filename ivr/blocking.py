"""Harassing callers: the configured block list, and the repeat-nuisance rule counted in Redis.

Counters are keyed by a hash of the number, not the number: Redis holds no personal data for this.
"""

from __future__ import annotations

import hashlib
import logging

import redis.asyncio as aioredis

from ivr.menu_config import Blocking

logger = logging.getLogger(__name__)

CALLS_KEY = "hotline:ivr:calls:{}"
BLOCKED_KEY = "hotline:ivr:blocked:{}"


def number_hash(number: str) -> str:
    return hashlib.sha256(f"hotline-ivr:{number}".encode()).hexdigest()[:32]


class CallerGuard:
    def __init__(self, blocking: Blocking, redis: aioredis.Redis) -> None:
        self.blocking = blocking
        self.redis = redis
        self._numbers = frozenset(blocking.numbers)
        self._prefixes = tuple(blocking.prefixes)

    def on_block_list(self, number: str) -> bool:
        return number in self._numbers or number.startswith(self._prefixes)

    async def count_call(self, number: str, uniqueid: str, now: float) -> bool:
        """Count this call; True when the number is (now) blocked by the repeat-nuisance rule."""
        rule = self.blocking.nuisance
        if rule is None:
            return False
        digest = number_hash(number)
        calls, blocked = CALLS_KEY.format(digest), BLOCKED_KEY.format(digest)
        window = rule.window_minutes * 60
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(blocked)
            pipe.zadd(calls, {f"{now:.3f}:{uniqueid}": now})
            pipe.zremrangebyscore(calls, "-inf", now - window)
            pipe.zcard(calls)
            pipe.expire(calls, window)
            already, _, _, count, _ = await pipe.execute()
        if already:
            return True
        if count > rule.max_calls:
            await self.redis.set(blocked, "1", ex=rule.block_minutes * 60)
            logger.warning(
                "call %s: %d calls in %d minutes from one number: blocked for %d minutes",
                uniqueid,
                count,
                rule.window_minutes,
                rule.block_minutes,
            )
            return True
        return False

    async def lift(self, number: str) -> None:
        """Forget a number's nuisance block and count (an admin's decision)."""
        digest = number_hash(number)
        await self.redis.delete(BLOCKED_KEY.format(digest), CALLS_KEY.format(digest))
