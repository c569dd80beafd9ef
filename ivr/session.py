"""What one IVR session accumulates: the path the caller took, their choices and where they left.
Pure state: the flow fills it, records.py stores it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Exit:
    """How a session ended (ivr_sessions.exit). A queue exit is `queue:<name>`."""

    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    OVERFLOW = "overflow"
    CLOSED = "closed"
    BLOCKED = "blocked"
    HANGUP = "hangup"
    ERROR = "error"

    @staticmethod
    def queue(name: str) -> str:
        return f"queue:{name}"


@dataclass
class CallerProfile:
    """What the database knows about the caller, looked up while the welcome prompt plays."""

    groups: list[str] = field(default_factory=list)
    open_ticket: str | None = None
    #: The SIP interface of the lawyer who has the open ticket (PJSIP/1001), when known.
    lawyer_interface: str | None = None


@dataclass
class IvrSessionState:
    uniqueid: str
    caller_number: str | None
    channel: str | None
    started_at: datetime
    language: str
    path: list[dict[str, Any]] = field(default_factory=list)
    exit: str = Exit.HANGUP
    queue: str | None = None
    topic: str | None = None
    service_line: str | None = None
    green: str | None = None
    priority: int = 0
    flags: list[str] = field(default_factory=list)
    recording_path: str | None = None
    ticket_code: str | None = None
    ended_at: datetime | None = None
    profile: CallerProfile = field(default_factory=CallerProfile)
    _step_started: float = field(default_factory=time.monotonic, repr=False)

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)

    def start_step(self) -> None:
        self._step_started = time.monotonic()

    def record(self, node: str, key: str | None) -> None:
        """One prompt the caller met at `node` and the key that answered it (None: no key asked,
        "" for silence). Seconds run from the previous record (or start_step)."""
        now = time.monotonic()
        self.path.append({"node": node, "key": key, "seconds": round(now - self._step_started, 2)})
        self._step_started = now

    @property
    def seconds_in_ivr(self) -> float:
        return round(sum(float(step["seconds"]) for step in self.path), 2)
