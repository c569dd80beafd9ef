"""Which call-back request is served next (virtual hold). Pure: standard library only.

A caller who chose to be called back keeps the place their call had: requests are served in the
order the original calls arrived, and never ahead of a caller still waiting in the queue who
arrived earlier (that caller would otherwise lose out for staying on the line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PendingCallback:
    id: int
    arrived_at: datetime


def next_to_serve(pending: Sequence[PendingCallback], waiting_since: Iterable[datetime]) -> PendingCallback | None:
    """The request to dial now, or None: nothing pending, or someone on the line arrived first.

    `waiting_since`: arrival (queue join) times of the callers still waiting in the queue.
    """
    if not pending:
        return None
    first = min(pending, key=lambda request: (request.arrived_at, request.id))
    earliest_waiting = min(waiting_since, default=None)
    if earliest_waiting is not None and earliest_waiting < first.arrived_at:
        return None
    return first


def serving_order(pending: Sequence[PendingCallback]) -> list[PendingCallback]:
    """All pending requests in the order they will be served."""
    return sorted(pending, key=lambda request: (request.arrived_at, request.id))
