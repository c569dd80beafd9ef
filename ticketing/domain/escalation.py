"""Escalation (督办) rules: which deadlines a forwarded ticket has let pass, and who hears of it.

A lapse is one deadline (kind + instant) passed while the ticket was still waiting for that step.
Each lapse is escalated once, one station level further up than the ticket's previous escalation:
the township's lapse goes to its county centre, the next one to the city, and so on up to the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ticketing.domain.lifecycle import WITH_STATION, TicketStatus


class DeadlineKind(StrEnum):
    ACCEPT = "accept"
    FINISH = "finish"

    @property
    def label(self) -> str:
        return "接收期限" if self is DeadlineKind.ACCEPT else "办结期限"


#: Statuses in which the ticket still owes the step the deadline is for.
AWAITING = {
    DeadlineKind.ACCEPT: frozenset({TicketStatus.FORWARDED}),
    DeadlineKind.FINISH: frozenset(WITH_STATION),
}


@dataclass(frozen=True)
class Lapse:
    kind: DeadlineKind
    deadline: datetime


def lapses(
    status: TicketStatus, accept_due_at: datetime | None, finish_due_at: datetime | None, now: datetime
) -> list[Lapse]:
    """Deadlines passed at `now` whose step is still owed, accept before finish."""
    found = []
    for kind, due in ((DeadlineKind.ACCEPT, accept_due_at), (DeadlineKind.FINISH, finish_due_at)):
        if due is not None and status in AWAITING[kind] and due <= now:
            found.append(Lapse(kind, due))
    return found


def station_chain(path: str) -> list[int]:
    """Station ids from the root down to the station itself, from a materialised path "/1/7/42/"."""
    parts = [p for p in path.split("/") if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a station path: {path!r}")
    return [int(p) for p in parts]


def escalation_target(path: str, previous_escalations: int) -> tuple[int, int]:
    """(station id, levels above the ticket's station) the next escalation goes to.

    The first goes to the parent, each further one a level higher; the root is as far as it goes
    (a root station's own lapse stays at the root, level 0, and supervisors still hear of it).
    """
    chain = station_chain(path)
    levels_up = min(previous_escalations + 1, len(chain) - 1)
    return chain[len(chain) - 1 - levels_up], levels_up
