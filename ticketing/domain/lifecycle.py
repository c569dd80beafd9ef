"""The ticket lifecycle (工单流转) as an explicit state machine.

已受理 → 已办结 when the lawyer settles the matter on the call, or 已受理 → 已转办 → 已接收 / 已退回 →
办理中 → 已办结 → 已回访 → 已归档. A returned ticket goes back to triage, where it is forwarded again
or settled; a dissatisfied call-back reopens a closed ticket for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ticketing.domain.errors import InvalidTransition, MissingTransitionInput, TransitionNotPermitted
from ticketing.domain.roles import Role


class TicketStatus(StrEnum):
    ACCEPTED = "accepted"
    FORWARDED = "forwarded"
    RECEIVED = "received"
    RETURNED = "returned"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    FOLLOWED_UP = "followed_up"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    TicketStatus.ACCEPTED: "已受理",
    TicketStatus.FORWARDED: "已转办",
    TicketStatus.RECEIVED: "已接收",
    TicketStatus.RETURNED: "已退回",
    TicketStatus.IN_PROGRESS: "办理中",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.FOLLOWED_UP: "已回访",
    TicketStatus.ARCHIVED: "已归档",
}

# Status groups, each defined once here (in lifecycle order, which reports keep for their columns).
#: With a station that owes the work: the forwarding inbox, and the statuses the finish deadline runs in.
WITH_STATION = (TicketStatus.FORWARDED, TicketStatus.RECEIVED, TicketStatus.IN_PROGRESS)
#: Forwarded work not yet done, including work a station returned for re-forwarding (the backlog).
STATION_BACKLOG = (*WITH_STATION, TicketStatus.RETURNED)
#: Not yet closed: the lawyer's or a station's work is still owed.
OPEN = (TicketStatus.ACCEPTED, *STATION_BACKLOG)


class Need(StrEnum):
    """Input a transition cannot be made without."""

    STATION = "station_id"
    REASON = "reason"
    RESULT = "result"


@dataclass(frozen=True)
class Transition:
    action: str
    source: TicketStatus
    target: TicketStatus
    roles: frozenset[Role]
    needs: frozenset[Need] = frozenset()


S = TicketStatus
_DESK = frozenset({Role.LAWYER, Role.SUPERVISOR, Role.ADMIN})
_STATION = frozenset({Role.STATION_STAFF, Role.SUPERVISOR, Role.ADMIN})
_OVERSIGHT = frozenset({Role.SUPERVISOR, Role.ADMIN})

TRANSITIONS: tuple[Transition, ...] = (
    Transition("resolve", S.ACCEPTED, S.CLOSED, _DESK, frozenset({Need.RESULT})),
    Transition("forward", S.ACCEPTED, S.FORWARDED, _DESK, frozenset({Need.STATION})),
    Transition("accept", S.FORWARDED, S.RECEIVED, _STATION),
    Transition("return", S.FORWARDED, S.RETURNED, _STATION, frozenset({Need.REASON})),
    Transition("start", S.RECEIVED, S.IN_PROGRESS, _STATION),
    Transition("return", S.RECEIVED, S.RETURNED, _STATION, frozenset({Need.REASON})),
    Transition("finish", S.IN_PROGRESS, S.CLOSED, _STATION, frozenset({Need.RESULT})),
    Transition("forward", S.RETURNED, S.FORWARDED, _DESK, frozenset({Need.STATION})),
    Transition("resolve", S.RETURNED, S.CLOSED, _DESK, frozenset({Need.RESULT})),
    Transition("follow_up", S.CLOSED, S.FOLLOWED_UP, _DESK),
    Transition("reopen", S.CLOSED, S.ACCEPTED, _OVERSIGHT, frozenset({Need.REASON})),
    Transition("reopen", S.FOLLOWED_UP, S.ACCEPTED, _OVERSIGHT, frozenset({Need.REASON})),
    Transition("archive", S.FOLLOWED_UP, S.ARCHIVED, _OVERSIGHT),
)

_BY_EDGE = {(t.source, t.target): t for t in TRANSITIONS}


def allowed_targets(current: TicketStatus, role: Role | None = None) -> list[TicketStatus]:
    """Statuses reachable in one step, in lifecycle order; only those `role` may make if given."""
    return [t.target for t in TRANSITIONS if t.source is current and (role is None or role in t.roles)]


def plan_transition(
    current: TicketStatus,
    target: TicketStatus,
    role: Role | None,
    *,
    station_id: int | None = None,
    reason: str | None = None,
    result: str | None = None,
) -> Transition:
    """Check one status change against the lifecycle and return it, or raise a domain error.

    `role` None means the system applies one of its own rules (a dissatisfied call-back reopens the
    ticket for review), so the edge and the inputs are checked but no person's permission is.
    """
    transition = _BY_EDGE.get((current, target))
    if transition is None:
        allowed = allowed_targets(current)
        raise InvalidTransition(
            f"工单状态不能从「{current.label}」变为「{target.label}」 / cannot go from {current} to {target}",
            current=current.value,
            requested=target.value,
            allowed=[s.value for s in allowed],
        )
    if role is not None and role not in transition.roles:
        raise TransitionNotPermitted(
            f"角色「{role.label}」不能执行此操作 / role {role} may not {transition.action} a ticket",
            action=transition.action,
            role=role.value,
            roles=sorted(r.value for r in transition.roles),
        )
    given = {Need.STATION: station_id, Need.REASON: reason, Need.RESULT: result}
    missing = sorted(
        need.value
        for need in transition.needs
        if given[need] is None or (isinstance(given[need], str) and not str(given[need]).strip())
    )
    if missing:
        raise MissingTransitionInput(
            f"缺少必填项 {', '.join(missing)} / {transition.action} needs {', '.join(missing)}",
            action=transition.action,
            missing=missing,
        )
    return transition
