"""What `hotline serve` starts, it keeps running: a worker pool process or an in-process task (the
bridge with its IVR) that stops is started again after a backoff (0.5 s doubling to 30 s; back to
0.5 s once it has run a minute), and the log says why it stopped. `STATUS` holds each component's
state for /api/health in this process."""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


@dataclass
class Backoff:
    first_s: float = 0.5
    cap_s: float = 30.0
    #: A run at least this long counts as healthy: the next failure waits `first_s` again.
    healthy_after_s: float = 60.0
    _next: float = field(default=0.0, init=False)

    def after(self, ran_s: float) -> float:
        if ran_s >= self.healthy_after_s or self._next == 0.0:
            self._next = self.first_s
        else:
            self._next = min(self.cap_s, self._next * 2)
        return self._next


@dataclass
class ComponentStatus:
    name: str
    running: bool = False
    restarts: int = 0
    last_exit: str | None = None
    since: float = field(default_factory=time.time)
    pid: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "since": self.since,
            "pid": self.pid,
        }


#: The IVR's FastAGI server refreshes this key while it listens (the bridge's runner, `hotline ivr`).
IVR_ALIVE_KEY = "hotline:ivr:{node}:alive"

#: Components supervised in this process, by name.
STATUS: dict[str, ComponentStatus] = {}


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send `sig` to this process when its parent dies, so a killed supervisor (or pool)
    leaves no orphans behind to run beside the ones its successor starts. Elsewhere: nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig))
    except (OSError, AttributeError, ctypes.ArgumentError):
        pass


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


async def supervise_process(
    name: str, argv: list[str], env: dict[str, str] | None = None, backoff: Backoff | None = None
) -> None:
    """Run `argv` for ever; on cancellation stop it (SIGTERM, then SIGKILL after 10 s)."""
    backoff = backoff or Backoff()
    status = STATUS.setdefault(name, ComponentStatus(name))
    while True:
        started = time.monotonic()
        process = subprocess.Popen(argv, env=env, preexec_fn=die_with_parent)
        status.running, status.pid, status.since = True, process.pid, time.time()
        logger.info("%s started (pid %d)", name, process.pid)
        try:
            code = await asyncio.to_thread(process.wait)
        except asyncio.CancelledError:
            await asyncio.to_thread(_stop, process)
            status.running = False
            raise
        status.running, status.pid = False, None
        status.last_exit = describe_exit(code)
        status.restarts += 1
        delay = backoff.after(time.monotonic() - started)
        logger.error("%s %s; starting it again in %.1f s", name, status.last_exit, delay)
        await asyncio.sleep(delay)


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


async def supervise_task(name: str, run: Callable[[], Awaitable[None]], backoff: Backoff | None = None) -> None:
    """Run the coroutine `run()` makes for ever: when it returns or raises, log why and start it again."""
    backoff = backoff or Backoff()
    status = STATUS.setdefault(name, ComponentStatus(name))
    while True:
        started = time.monotonic()
        status.running, status.since = True, time.time()
        try:
            await run()
            status.last_exit = "returned"
        except asyncio.CancelledError:
            status.running = False
            raise
        except Exception as exc:
            status.last_exit = f"{type(exc).__name__}: {exc}"
            logger.exception("%s stopped on an error", name)
        status.running = False
        status.restarts += 1
        delay = backoff.after(time.monotonic() - started)
        logger.error("%s stopped (%s); starting it again in %.1f s", name, status.last_exit, delay)
        await asyncio.sleep(delay)


def ivr_alive_payload(node: str, host: str, port: int) -> dict[str, Any]:
    """What an IVR announces about itself (one per node; /api/health lists them)."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    return {"node": node, "host": host, "port": port, "pid": os.getpid(), "since": since}


async def announce_alive(client: Any, key: str, payload: dict[str, Any], every_s: float = 5.0, ttl_s: int = 15) -> None:
    """Refresh `key` (with a lifetime) while this runs, for /api/health; Redis outages are waited out."""
    value = json.dumps(payload, ensure_ascii=False)
    while True:
        try:
            await client.set(key, value, ex=ttl_s)
        except Exception as exc:  # redis.asyncio errors: the key lapses and health shows it
            logger.debug("heartbeat %s not written: %s", key, exc)
        await asyncio.sleep(every_s)
