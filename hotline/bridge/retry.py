"""When the bridge tries Asterisk again after a failed or lost connection. Pure: no sockets, no sleeping.

Two kinds of failure call for different pacing:

- **Nobody answering**: connection refused or reset, no route, no answer in time, or the socket
  closed before Login was answered (Asterisk down, restarting, or a link cut). A refused TCP
  connection costs a PBX that is down nothing, and the hotline is deaf until the bridge is back, so
  the delay grows from `initial_s` only up to `probe_s`: a PBX that answers again is found within
  `probe_s` (the target is logged in within 2 s of Asterisk answering), at one attempt per
  `probe_s` at most however long the outage lasts.
- **Asterisk answered and refused** (credentials, permissions, a resync action refused): retrying
  fast changes nothing and fills its security log, so the delay doubles up to `max_s`.

A session that came up starts the schedule over. Every delay is jittered down into
[0.75, 1] × delay, so bridges restarted together spread out without ever waiting longer than planned.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RetrySchedule:
    initial_s: float = 0.25
    probe_s: float = 1.0
    max_s: float = 30.0
    rng: Callable[[], float] = field(default=random.random, repr=False)
    attempts: int = 0
    _delay: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._delay = self.initial_s

    def reset(self) -> None:
        """The connection was up: the next failure starts again from `initial_s`."""
        self.attempts = 0
        self._delay = self.initial_s

    def failed(self, *, refused: bool) -> float:
        """The delay before the next attempt after one that failed (`refused`: Asterisk said no)."""
        self.attempts += 1
        delay = self._delay
        cap = self.max_s if refused else max(self.probe_s, self.initial_s)
        self._delay = min(max(delay * 2, self.initial_s), cap)
        if not refused:
            delay = min(delay, cap)
        return delay * (0.75 + 0.25 * self.rng())
