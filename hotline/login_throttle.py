"""Sign-in throttling in Redis: failed attempts per client address and username, counted atomically
before the password is checked (hotline.api.routes.auth). The one place that knows the keys: admins
lift a lock and the account list shows one through `unlock` and `is_locked` here."""

from __future__ import annotations

import re
from collections.abc import Iterator

import redis

#: Failed logins allowed per username and client address within the window.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 15 * 60
FAILURES_PREFIX = "hotline:login-failures:"


def failures_key(client: str, username: str) -> str:
    return f"{FAILURES_PREFIX}{client}:{username}"


def _keys_of(connection: redis.Redis, username: str) -> Iterator[str]:
    """The failure counters of `username` from every address (glob characters in the name escaped)."""
    pattern = FAILURES_PREFIX + "*:" + re.sub(r"([*?\[\]\\])", r"\\\1", username)
    return connection.scan_iter(match=pattern, count=500)  # type: ignore[no-any-return]


def unlock(connection: redis.Redis, username: str) -> int:
    """Forget the failed sign-ins of `username` from every address; returns how many locks there were."""
    keys = list(_keys_of(connection, username))
    return int(connection.delete(*keys)) if keys else 0


def is_locked(connection: redis.Redis, username: str, limit: int = MAX_FAILURES) -> bool | None:
    """Whether some address has hit the sign-in limit for `username` (None when Redis is down)."""
    try:
        return any(int(connection.get(key) or 0) >= limit for key in _keys_of(connection, username))
    except redis.RedisError:
        return None


def count_attempt(connection: redis.Redis, key: str) -> int:
    """Count one sign-in attempt and return the count, in one atomic step (so parallel guesses cannot
    all pass a check made before counting). The window starts at the first attempt."""
    with connection.pipeline(transaction=True) as pipe:
        _, count = pipe.set(key, 0, ex=FAILURE_WINDOW_S, nx=True).incr(key).execute()
    return int(count)
