"""Queue membership: who should be in which queue now, and the AMI actions that get Asterisk there.

Standard library only. The rules:

- Desired: every lawyer whose shift covers this minute is a member of each of the shift's queues,
  named by display name, with the shift's penalty if it gives one.
- Managed: the roster adds and removes only interfaces that belong to lawyers (users with role
  lawyer and an interface, active or not, so a deactivated lawyer is taken out). Anything else in a
  queue (a supervisor's phone, a test extension) is left alone, and so are static and realtime
  members (queues.conf or the database): AMI cannot remove them ("Member not dynamic").
- Queues: only the queues the roster knows (config/service_hours.yaml); queues Asterisk does not
  have are reported, never created.
- Paused members are members: pausing (with a reason) is the lawyer's business, not the roster's,
  so a paused lawyer on duty is neither removed nor unpaused.
- Order: additions before removals, so a queue handed from one shift to the next is never empty.
- Idempotent: applying the plan and planning again gives nothing to do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from hotline.ami.queue_status import ActualMember
from hotline.rosters.model import Shift, local_wall_clock


@dataclass(frozen=True)
class MemberSpec:
    name: str
    penalty: int | None = None
    #: Only when the device to watch differs from the interface (Local/ channels).
    state_interface: str | None = None


Desired = dict[str, dict[str, MemberSpec]]
Actual = Mapping[str, Mapping[str, ActualMember]]


@dataclass(frozen=True)
class MemberAction:
    queue: str
    interface: str
    member_name: str

    action = ""

    def fields(self) -> dict[str, str]:
        return {"Queue": self.queue, "Interface": self.interface}

    def describe(self) -> str:
        return f"{self.action} {self.queue} {self.interface} ({self.member_name})"


@dataclass(frozen=True)
class QueueAdd(MemberAction):
    penalty: int | None = None
    state_interface: str | None = None

    action = "QueueAdd"

    def fields(self) -> dict[str, str]:
        fields = {**super().fields(), "MemberName": self.member_name}
        if self.penalty is not None:
            fields["Penalty"] = str(self.penalty)
        if self.state_interface:
            fields["StateInterface"] = self.state_interface
        return fields


@dataclass(frozen=True)
class QueueRemove(MemberAction):
    action = "QueueRemove"


@dataclass(frozen=True)
class QueuePenalty(MemberAction):
    penalty: int = 0

    action = "QueuePenalty"

    def fields(self) -> dict[str, str]:
        return {**super().fields(), "Penalty": str(self.penalty)}


def desired_membership(
    shifts: Iterable[Shift], now: datetime, *, tz: tzinfo | None = None, queues: Iterable[str] | None = None
) -> Desired:
    """Members each queue should have at `now` (aware, with `tz`; or naive local time).

    With `queues`, every one of them gets an entry (empty when nobody is on duty) and shifts' other
    queues are left out: an empty entry is what tells the plan to empty that queue."""
    local_now = local_wall_clock(now, tz)
    desired: Desired = {name: {} for name in queues} if queues is not None else {}
    for shift in shifts:
        if not shift.interface or not shift.on_duty(local_now):
            continue  # a lawyer whose interface was cleared cannot be a member
        for queue in shift.queues:
            if queues is not None and queue not in desired:
                continue
            members = desired.setdefault(queue, {})
            previous = members.get(shift.interface)
            penalty = shift.penalty
            if previous is not None and previous.penalty is not None:
                penalty = previous.penalty if penalty is None else min(penalty, previous.penalty)
            members[shift.interface] = MemberSpec(shift.member_name, penalty)
    return desired


def plan_reconciliation(
    desired: Desired,
    actual: Actual,
    *,
    managed: Collection[str] | None = None,
    complete: bool = True,
) -> list[MemberAction]:
    """The actions that make `actual` match `desired` in the queues `desired` names.

    `managed` is the set of interfaces the roster may remove (the lawyers'); None means only those
    `desired` names somewhere. A queue missing from `actual` is one Asterisk does not have: skipped.
    With `complete=False` (the QueueStatus list was cut short) nothing is removed."""
    if managed is None:
        managed = {interface for members in desired.values() for interface in members}
    adds: list[MemberAction] = []
    penalties: list[MemberAction] = []
    removes: list[MemberAction] = []
    for queue in sorted(desired):
        if queue not in actual:
            continue
        present = actual[queue]
        for interface, spec in sorted(desired[queue].items()):
            member = present.get(interface)
            if member is None:
                adds.append(QueueAdd(queue, interface, spec.name, spec.penalty, spec.state_interface))
            elif spec.penalty is not None and member.penalty != spec.penalty and member.membership == "dynamic":
                penalties.append(QueuePenalty(queue, interface, spec.name, spec.penalty))
        if not complete:
            continue
        for interface, member in sorted(present.items()):
            if interface not in desired[queue] and interface in managed and member.membership == "dynamic":
                removes.append(QueueRemove(queue, interface, member.name))
    return adds + penalties + removes


def missing_queues(desired: Desired, actual: Actual) -> list[str]:
    """Queues the roster manages that Asterisk does not have (add them to queues.conf)."""
    return sorted(set(desired) - set(actual))


def stuck_members(desired: Desired, actual: Actual, managed: Collection[str]) -> list[tuple[str, ActualMember]]:
    """Lawyers who are static or realtime members of a queue they are not on duty for: AMI cannot
    remove them, an admin has to (queues.conf)."""
    return [
        (queue, member)
        for queue in sorted(desired)
        for interface, member in sorted(actual.get(queue, {}).items())
        if interface in managed and interface not in desired[queue] and member.membership != "dynamic"
    ]
