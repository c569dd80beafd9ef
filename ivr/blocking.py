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
NEWLY_BLOCKED = 2
#: KEYS: calls (sorted set of call times), blocked flag. ARGV: now, member, window s, max calls, block s.
#: Returns 0 (fine), 1 (already blocked), 2 (blocked by this call).
COUNT_CALL = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
local calls = redis.call('ZCARD', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if calls > tonumber(ARGV[4]) then
    redis.call('SET', KEYS[2], '1', 'EX', ARGV[5])
    return 2
end
return 0
"""


def number_hash(number: str) -> str:
    return hashlib.sha256(f"hotline-ivr:{number}".encode()).hexdigest()[:32]


class CallerGuard:
    def __init__(self, blocking: Blocking, redis: aioredis.Redis) -> None:
        self.blocking = blocking
        self.redis = redis
        self._count = redis.register_script(COUNT_CALL)
        self._numbers = frozenset(blocking.numbers)
        self._prefixes = tuple(blocking.prefixes)

    def on_block_list(self, number: str) -> bool:
        return number in self._numbers or number.startswith(self._prefixes)

    async def count_call(self, number: str, uniqueid: str, now: float) -> bool:
        """Count this call; True when the number is (now) blocked by the repeat-nuisance rule.
        One round trip: the check, the count and the block happen in a Redis script."""
        rule = self.blocking.nuisance
        if rule is None:
            return False
        digest = number_hash(number)
        window = rule.window_minutes * 60
        outcome = await self._count(
            keys=[CALLS_KEY.format(digest), BLOCKED_KEY.format(digest)],
            args=[f"{now:.3f}", f"{now:.3f}:{uniqueid}", window, rule.max_calls, rule.block_minutes * 60],
        )
        if outcome == NEWLY_BLOCKED:
            logger.warning(
                "call %s: over %d calls in %d minutes from one number: blocked for %d minutes",
                uniqueid,
                rule.max_calls,
                rule.window_minutes,
                rule.block_minutes,
            )
        return bool(outcome)

    async def lift(self, number: str) -> None:
        """Forget a number's nuisance block and count (an admin's decision)."""
        digest = number_hash(number)
        await self.redis.delete(BLOCKED_KEY.format(digest), CALLS_KEY.format(digest))
