"""Sign-in throttling in Redis: failed attempts per client address and username, counted atomically
before the password is checked; admins lift a lock (DELETE /api/users/{username}/lockout)."""

from __future__ import annotations

import re

import redis

#: Failed logins allowed per username and client address within the window.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 15 * 60
FAILURES_PREFIX = "hotline:login-failures:"


def failures_key(client: str, username: str) -> str:
    return f"{FAILURES_PREFIX}{client}:{username}"


def unlock(connection: redis.Redis, username: str) -> int:
    """Forget the failed sign-ins of `username` from every address; returns how many locks there were."""
    pattern = FAILURES_PREFIX + "*:" + re.sub(r"([*?\[\]\\])", r"\\\1", username)
    keys = list(connection.scan_iter(match=pattern, count=500))
    return int(connection.delete(*keys)) if keys else 0


def count_attempt(connection: redis.Redis, key: str) -> int:
    """Count one sign-in attempt and return the count, in one atomic step (so parallel guesses cannot
    all pass a check made before counting). The window starts at the first attempt."""
    with connection.pipeline(transaction=True) as pipe:
        _, count = pipe.set(key, 0, ex=FAILURE_WINDOW_S, nx=True).incr(key).execute()
    return int(count)
