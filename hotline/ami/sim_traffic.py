"""Simulated hotline traffic for demo mode: callers arrive, wait, talk to lawyers or give up.

The lawyers are whoever is a member of the simulated queues right now (the bridge seats them from
the duty roster, as with a real Asterisk), minus those paused or with an unreachable phone. A small
queue model decides each call's fate (a lawyer free before the caller's patience runs out answers,
else the caller abandons; now and then a phone rings out first), `CallFactory` writes the events
Asterisk would send, and the simulator plays them at their times. Click-to-call Originates become
call-backs. The bridge labels all of it as simulated (`source = simulator`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hotline.ami.frames import AmiMessage
from hotline.ami.sim_calls import CallFactory, Event, Member
from hotline.ami.sim_queues import UNAVAILABLE, SimQueues
from hotline.ami.simulator import AmiSimulator

logger = logging.getLogger(__name__)
#: How long a queue rings a lawyer before trying again (queues.conf `timeout`).
RING_TIMEOUT_S = 20.0


@dataclass
class TrafficProfile:
    #: None sizes the traffic to the lawyers on duty (`occupancy` of their time busy); a number is a
    #: fixed rate whatever the roster (HOTLINE_DEMO_CALLS_PER_MINUTE, for stress).
    calls_per_minute: float | None = None
    occupancy: float = 0.6
    ivr_s: tuple[float, float] = (4.0, 15.0)
    patience_s: tuple[float, float] = (20.0, 150.0)
    talk_s: tuple[float, float] = (40.0, 240.0)
    wrapup_s: float = 10.0
    ring_s: float = 3.0
    ring_out_share: float = 0.1
    #: Demo numbers: mobile prefixes of several provinces, so the router's number lookup has work.
    prefixes: tuple[str, ...] = ("138", "139", "136", "150", "187", "133", "0971", "028")


@dataclass
class DemoTraffic:
    simulator: AmiSimulator
    queues: SimQueues
    profile: TrafficProfile = field(default_factory=TrafficProfile)
    seed: int | None = None
    clock: Callable[[], float] = time.time
    factory: CallFactory = field(default_factory=CallFactory)
    calls: int = 0
    _heap: list[tuple[float, int, bytes]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _busy_until: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.queues.queues:
            raise ValueError("demo traffic needs at least one queue")
        self.random = random.Random(self.seed)
        self.simulator.after_action["originate"] = self._originated

    def schedule(self, events: list[Event]) -> None:
        for at, raw in events:
            heapq.heappush(self._heap, (at, next(self._order), raw))

    def seat(self, queue: str, member: Member) -> None:
        """Put a lawyer in a queue as QueueAdd would (tests; demos without a roster)."""
        self.schedule(self.factory.member_added(queue, member, self.clock()))

    def on_duty(self, queue: str) -> list[Member]:
        """Members of the simulated queue who can take a call: not paused, phone reachable."""
        found = self.queues.queues.get(queue)
        members = found.members.values() if found else ()
        unavailable = self.queues.device_states
        return [m for m in members if not m.paused and unavailable.get(m.state_interface) != UNAVAILABLE]

    def new_call(self, at: float) -> None:
        """Decide one caller's fate and schedule the events of the whole call."""
        p, rnd = self.profile, self.random
        queue = rnd.choice(sorted(self.queues.queues))
        caller = rnd.choice(p.prefixes)
        caller += "".join(rnd.choice("0123456789") for _ in range((11 if caller[0] == "1" else 12) - len(caller)))
        ivr = rnd.uniform(*p.ivr_s)
        joined = at + ivr
        patience = rnd.uniform(*p.patience_s)
        free = sorted(self.on_duty(queue), key=lambda m: self._busy_until.get(m.interface, 0.0))
        member = free[0] if free else None
        ready = max(joined + p.ring_s, self._busy_until.get(member.interface, 0.0) + p.wrapup_s) if member else None
        self.calls += 1
        idle = member is not None and self._busy_until.get(member.interface, 0.0) + p.wrapup_s <= joined
        if member is not None and idle and patience > RING_TIMEOUT_S and rnd.random() < p.ring_out_share:
            # The free lawyer does not pick up: the phone rings out (AgentRingNoAnswer), rings again,
            # and the caller gives up. The phone is in use meanwhile (queues.conf: ringinuse = no).
            events = self.factory.abandoned(
                caller, queue, at, wait_s=patience, ivr_s=ivr, rung=member, ring_timeout_s=RING_TIMEOUT_S
            )
            self._busy_until[member.interface] = joined + patience
        elif member is not None and ready is not None and ready - joined <= patience:
            talk = rnd.uniform(*p.talk_s)
            events = self.factory.answered(
                caller, queue, member, at, wait_s=ready - joined, talk_s=talk, ivr_s=ivr, ring_s=p.ring_s
            )
            self._busy_until[member.interface] = ready + talk
        else:  # every lawyer is busy for longer than the caller waits: nobody is rung
            events = self.factory.abandoned(caller, queue, at, wait_s=patience, ivr_s=ivr)
        self.schedule(events)

    def scripted_call(
        self,
        caller: str,
        queue: str,
        *,
        wait_s: float,
        talk_s: float,
        ivr_s: float = 1.0,
        ring_s: float = 2.0,
        interface: str | None = None,
    ) -> dict[str, str | None]:
        """One SIMULATED call whose course the caller of this method decides (browser tests, demos):
        after `ivr_s` in the menu it waits `wait_s` in `queue`, the last `ring_s` of them ringing the
        lawyer (`interface`, or the first on duty), who talks for `talk_s`; with nobody on duty the
        caller abandons after `wait_s`. Returns the call's Linkedid and who answers."""
        if queue not in self.queues.queues:
            raise ValueError(f"no simulated queue {queue!r}")
        at = self.clock()
        member = next((m for m in self.on_duty(queue) if interface in (None, m.interface)), None)
        if member is not None:
            events = self.factory.answered(
                caller, queue, member, at, wait_s=wait_s, talk_s=talk_s, ivr_s=ivr_s, ring_s=min(ring_s, wait_s)
            )
            self._busy_until[member.interface] = at + ivr_s + wait_s + talk_s
        else:
            events = self.factory.abandoned(caller, queue, at, wait_s=wait_s, ivr_s=ivr_s)
        self.calls += 1
        self.schedule(events)
        first = events[0][1].decode()
        linkedid = next(line.partition(": ")[2] for line in first.split("\r\n") if line.startswith("Linkedid: "))
        return {"linkedid": linkedid, "answered_by": member.interface if member else None}

    async def _originated(self, action: AmiMessage) -> None:
        interface = action.get("Channel") or ""
        seated = (q.members.get(interface) for q in self.queues.queues.values())
        member = next((m for m in seated if m is not None), None) or Member(interface, interface.partition("/")[2])
        now = self.clock()
        answered = self._busy_until.get(interface, 0.0) <= now
        talk = self.random.uniform(*self.profile.talk_s) if answered else 0.0
        events = self.factory.callback(
            member,
            action.get("Exten") or "",
            now + 0.2,
            action_id=action.get("ActionID") or "",
            context=action.get("Context") or "hotline-callback",
            answered=answered,
            ring_s=self.profile.ring_s,
            talk_s=talk,
        )
        if answered:
            # The lawyer's phone is busy on the call-back: queues see it, as Asterisk's device state says.
            end = events[-1][0]
            for queue, found in self.queues.queues.items():
                if interface in found.members:
                    events += [self.factory.member_status(queue, member, "2", now + 0.2),
                               self.factory.member_status(queue, member, "1", end)]  # fmt: skip
            self._busy_until[interface] = end
        self.schedule(events)

    def lawyers_on_duty(self) -> int:
        return len({m.interface for queue in self.queues.queues for m in self.on_duty(queue)})

    def rate_per_s(self) -> float:
        """Arrivals per second: the profile's fixed rate, or one that keeps the lawyers on duty
        `occupancy` busy (a trickle when nobody is on duty, so the wallboard still shows callers)."""
        p = self.profile
        if p.calls_per_minute is not None:
            return p.calls_per_minute / 60
        cycle_s = sum(p.talk_s) / 2 + p.wrapup_s + p.ring_s
        return max(p.occupancy * self.lawyers_on_duty() / cycle_s, 0.2 / 60)

    def _next_arrival(self, now: float) -> float:
        rate = self.rate_per_s()
        # A rate of 0 means scripted calls only (HOTLINE_DEMO_CALLS_PER_MINUTE=0, browser tests).
        return now + self.random.expovariate(rate) if rate > 0 else float("inf")

    async def run(self) -> None:
        """Arrivals at the profile's rate, events played when due, until cancelled."""
        next_arrival = self._next_arrival(self.clock())
        while True:
            now = self.clock()
            while self._heap and self._heap[0][0] <= now:
                _, _, raw = heapq.heappop(self._heap)
                await self.simulator.send_event(raw)
            if now >= next_arrival:
                self.new_call(now)
                next_arrival = self._next_arrival(now)
            due = min(next_arrival, self._heap[0][0] if self._heap else next_arrival)
            # Short naps rather than a wake-up event: call-backs scheduled meanwhile start on time.
            await asyncio.sleep(min(0.1, max(0.0, due - self.clock())))
