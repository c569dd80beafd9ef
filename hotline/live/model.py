"""Live state as a pure function of AMI events: lawyers' states, callers waiting per queue, calls up.

Calls come from the CallTracker (one record per Linkedid; how a call looks live is
hotline.live.calls); this model adds what the tracker does not keep: queue membership and each
lawyer's state (on duty, ringing, talking, wrap-up, paused with a reason). `apply` returns what
changed, so the publisher writes only that. No I/O here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hotline.ami.queue_status import ActualMember
from hotline.domain.call_tracker import CallRecord

#: app_queue member Status values (ast_device_state) that mean the phone cannot take a call.
_UNAVAILABLE = {"4", "5"}  # INVALID, UNAVAILABLE (not registered)
_RINGING = {"6", "7"}  # RINGING, RINGINUSE
_BUSY = {"2", "3", "8"}  # INUSE, BUSY, ONHOLD
#: How many recent handle times feed a queue's average (for the IVR's estimated wait).
HANDLE_SAMPLES = 50

MEMBER_EVENTS = frozenset(
    {"QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMemberPenalty", "QueueMemberRemoved"}
)
AGENT_EVENTS = frozenset({"AgentCalled", "AgentRingNoAnswer", "AgentConnect", "AgentComplete"})


class AgentState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


@dataclass
class Membership:
    paused: bool = False
    reason: str = ""
    penalty: int = 0


@dataclass
class Agent:
    interface: str
    name: str
    queues: dict[str, Membership] = field(default_factory=dict)
    device_status: str = "0"
    ringing_for: str | None = None
    talking_on: str | None = None
    wrapup_until: float | None = None
    wrapup_seconds: float = 0.0
    since: float = 0.0
    state: AgentState = AgentState.AVAILABLE

    @property
    def paused(self) -> bool:
        return bool(self.queues) and all(m.paused for m in self.queues.values())

    @property
    def pause_reason(self) -> str:
        return next((m.reason for m in self.queues.values() if m.paused and m.reason), "")

    def derive_state(self, now: float) -> AgentState:
        if self.talking_on is not None:
            return AgentState.TALKING
        if self.ringing_for is not None or self.device_status in _RINGING:
            return AgentState.RINGING
        if self.wrapup_until is not None and now < self.wrapup_until:
            return AgentState.WRAPUP
        if self.paused:
            return AgentState.PAUSED
        if self.device_status in _UNAVAILABLE:
            return AgentState.UNAVAILABLE
        if self.device_status in _BUSY:
            return AgentState.TALKING  # on a call outside the queue (a call-back, a transfer)
        return AgentState.AVAILABLE

    def view(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "name": self.name,
            "state": self.state.value,
            "reason": self.pause_reason if self.state is AgentState.PAUSED else "",
            "since": self.since,
            "queues": {
                q: {"paused": m.paused, "reason": m.reason, "penalty": m.penalty} for q, m in self.queues.items()
            },
            "linkedid": self.talking_on or self.ringing_for,
            "wrapup_until": self.wrapup_until if self.state is AgentState.WRAPUP else None,
        }


@dataclass
class Changes:
    calls: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.calls or self.agents or self.queues)

    def merge(self, other: Changes) -> None:
        self.calls |= other.calls
        self.agents |= other.agents
        self.queues |= other.queues

    def clear(self) -> None:
        self.calls.clear()
        self.agents.clear()
        self.queues.clear()


class LiveModel:
    """Lawyers and queues, plus the tracker's calls seen through `note_call`."""

    def __init__(self, default_wrapup_s: float = 0.0) -> None:
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, CallRecord] = {}
        self.queue_names: set[str] = set()
        self.default_wrapup_s = default_wrapup_s
        self._handle_times: dict[str, deque[float]] = {}

    # -- events ---------------------------------------------------------------------------------
    def apply(self, event: Mapping[str, str], call: CallRecord | None, at: float, changes: Changes) -> None:
        """Fold one event (already handled by the tracker, which returned `call`) into the model."""
        name = event.get("Event", "")
        if call is not None:
            self.note_call(call, changes)
        if name in MEMBER_EVENTS:
            self._member_event(name, event, at, changes)
        elif name in AGENT_EVENTS:
            self._agent_event(name, event, at, changes)

    def note_call(self, call: CallRecord, changes: Changes) -> None:
        changes.calls.add(call.linkedid)
        if call.queue:
            self.queue_names.add(call.queue)
            changes.queues.add(call.queue)
        if call.ended_at is not None:
            self.calls.pop(call.linkedid, None)
        else:
            self.calls[call.linkedid] = call

    def _member_event(self, name: str, event: Mapping[str, str], at: float, changes: Changes) -> None:
        interface, queue = event.get("Interface"), event.get("Queue")
        if not interface or not queue:
            return
        self.queue_names.add(queue)
        changes.queues.add(queue)
        changes.agents.add(interface)
        agent = self.agents.get(interface)
        if name == "QueueMemberRemoved":
            if agent is not None:
                agent.queues.pop(queue, None)
                if not agent.queues:
                    del self.agents[interface]
                    return
                self._refresh(agent, at)
            return
        if agent is None:
            agent = self.agents[interface] = Agent(interface, event.get("MemberName") or interface, since=at)
        agent.name = event.get("MemberName") or agent.name
        agent.device_status = event.get("Status", agent.device_status)
        agent.wrapup_seconds = _float(event.get("Wrapuptime")) or self.default_wrapup_s
        agent.queues[queue] = Membership(
            paused=event.get("Paused") == "1", reason=event.get("PausedReason", ""), penalty=_int(event.get("Penalty"))
        )
        self._refresh(agent, at)

    def _agent_event(self, name: str, event: Mapping[str, str], at: float, changes: Changes) -> None:
        interface = event.get("Interface")
        agent = self.agents.get(interface or "")
        if agent is None or interface is None:
            return
        changes.agents.add(interface)
        linkedid = event.get("Linkedid")
        if name == "AgentCalled":
            agent.ringing_for = linkedid
        elif name == "AgentRingNoAnswer":
            agent.ringing_for = None
        elif name == "AgentConnect":
            agent.ringing_for = None
            agent.talking_on = linkedid
        elif name == "AgentComplete":
            agent.talking_on = None
            agent.wrapup_until = at + agent.wrapup_seconds if agent.wrapup_seconds else None
            queue = event.get("Queue")
            if queue:
                samples = self._handle_times.setdefault(queue, deque(maxlen=HANDLE_SAMPLES))
                samples.append(_float(event.get("TalkTime")) + agent.wrapup_seconds)
                changes.queues.add(queue)
        self._refresh(agent, at)

    def _refresh(self, agent: Agent, at: float) -> None:
        state = agent.derive_state(at)
        if state is not agent.state:
            agent.state, agent.since = state, at

    def tick(self, now: float, changes: Changes) -> None:
        """Let time pass: wrap-ups end without an event, so look for them."""
        for agent in self.agents.values():
            if agent.wrapup_until is not None and now >= agent.wrapup_until:
                agent.wrapup_until = None
                before = agent.state
                self._refresh(agent, now)
                if agent.state is not before:
                    changes.agents.add(agent.interface)
                    changes.queues.update(agent.queues)

    # -- resync ---------------------------------------------------------------------------------
    def replace_members(self, members: Mapping[str, Mapping[str, ActualMember]], at: float) -> Changes:
        """Rebuild membership from a QueueStatus reply (queue -> interface -> member)."""
        changes = Changes(agents=set(self.agents), queues=set(self.queue_names))
        old = self.agents
        self.agents = {}
        for queue, seated in members.items():
            for interface, member in seated.items():
                previous = old.get(interface)
                event = {
                    "Queue": queue,
                    "Interface": interface,
                    "MemberName": member.name,
                    "Status": str(member.status),
                    "Paused": "1" if member.paused else "0",
                    "PausedReason": member.paused_reason,
                    "Penalty": str(member.penalty),
                }
                self._member_event("QueueMemberStatus", event, at, changes)
                agent = self.agents[interface]
                if previous is not None:
                    agent.wrapup_until = previous.wrapup_until
                    agent.since = previous.since if previous.state is agent.state else at
                if member.in_call and agent.talking_on is None and previous is not None:
                    agent.talking_on = previous.talking_on
                    self._refresh(agent, at)
        changes.agents |= set(self.agents)
        return changes

    def agent_on_call(self, interface: str, linkedid: str, at: float) -> None:
        agent = self.agents.get(interface)
        if agent is not None:
            agent.talking_on = linkedid
            self._refresh(agent, at)

    # -- views ----------------------------------------------------------------------------------
    def queue_snapshot(self, queue: str, now: float) -> dict[str, Any]:
        """The per-queue figures the IVR and the wallboard read (see hotline.live.publisher)."""
        return self.queue_snapshots([queue], now)[0]

    def queue_snapshots(self, queues: Iterable[str], now: float) -> list[dict[str, Any]]:
        """Snapshots of several queues with one pass over the calls."""
        waiting: dict[str, list[float]] = {queue: [] for queue in queues}
        for call in self.calls.values():
            joined = waiting.get(call.queue or "")
            if joined is not None and call.waiting and call.offered_at is not None:
                joined.append(call.offered_at)
        return [self._snapshot(queue, joined, now) for queue, joined in waiting.items()]

    def _snapshot(self, queue: str, waiting: list[float], now: float) -> dict[str, Any]:
        members = [a for a in self.agents.values() if queue in a.queues]
        samples = self._handle_times.get(queue)
        return {
            "queue": queue,
            "waiting": len(waiting),
            "oldest_joined_at": min(waiting, default=None),
            "members_on_duty": len(members),
            "members_available": sum(
                1 for a in members if a.state is AgentState.AVAILABLE and not a.queues[queue].paused
            ),
            "members_paused": sum(1 for a in members if a.queues[queue].paused),
            "talking": sum(1 for a in members if a.state is AgentState.TALKING),
            "avg_handle_s": round(sum(samples) / len(samples), 1) if samples else None,
            "updated_at": now,
        }


def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
