"""A lease in Redis: one holder at a time among several processes, taken over when the holder dies.

`SET key holder NX PX ttl` takes it; the holder renews it well before it lapses (compare-and-extend
in a Lua script, so a holder whose lease already went to someone else cannot renew it) and gives it
up on a clean exit. A holder that is killed simply stops renewing: another takes over after `ttl`.
A lease only elects; what must not happen twice is fenced where it happens (see hotline.scheduler:
each run of a periodic job is claimed in PostgreSQL).
"""

from __future__ import annotations

import os
import socket
import uuid

import redis

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def holder_name() -> str:
    """host:pid:random, so a restarted process on the same host is a new holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RedisLease:
    def __init__(self, client: redis.Redis, name: str, ttl_s: float, holder: str | None = None) -> None:
        self.client = client
        self.key = f"hotline:lease:{name}"
        self.ttl_ms = max(1000, int(ttl_s * 1000))
        self.holder = holder or holder_name()
        self.held = False

    def acquire_or_renew(self) -> bool:
        """True when this process holds the lease now (taken or renewed); Redis errors propagate."""
        if self.held and self.client.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms):
            return True
        self.held = bool(self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms))
        return self.held

    def release(self) -> None:
        if self.held:
            self.client.eval(_RELEASE, 1, self.key, self.holder)
            self.held = False

    def current_holder(self) -> str | None:
        raw = self.client.get(self.key)
        return None if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)
