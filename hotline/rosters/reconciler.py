"""The bridge's roster loop: make Asterisk's queue members match who is on duty this minute.

Each pass asks Asterisk (QueueStatus) rather than remembering what it did, so a bridge restart, a
missed minute or an Asterisk reload heals at the next pass. Asterisk's "Already there" / "Not there"
answers mean someone else got there first: converged, not failed.

`action` is `hotline.ami.panoramisk_adapter.AmiClient.action` (or anything with its signature): it
returns the response (a list for list actions) and raises AmiActionError with Asterisk's reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from hotline.ami.panoramisk_adapter import AmiActionError
from hotline.ami.queue_status import parse_queue_status
from hotline.rosters import store
from hotline.rosters.membership import (
    MemberAction,
    QueueAdd,
    QueueRemove,
    desired_membership,
    missing_queues,
    plan_reconciliation,
    stuck_members,
)
from hotline.rosters.model import Shift, lawyer_node, local_wall_clock

logger = logging.getLogger(__name__)

Action = Callable[..., Awaitable[Any]]
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
#: Seconds after the minute at which the loop runs, so a shift starting at 09:00 is in at 09:00:02.
PASS_OFFSET_S = 2.0


class NamedQueue(Protocol):
    name: str


@dataclass(frozen=True)
class NodeScope:
    """The node this bridge drives, and the install's home node (of lawyers without a node)."""

    name: str
    home: str


@dataclass
class ReconcileReport:
    at: datetime
    on_duty: list[Shift] = field(default_factory=list)
    applied: list[MemberAction] = field(default_factory=list)
    #: Asterisk was already there ("Already there" to an add, "Not there" to a remove).
    converged: list[MemberAction] = field(default_factory=list)
    failed: list[tuple[MemberAction, str]] = field(default_factory=list)
    #: Queues in config/service_hours.yaml that Asterisk does not have.
    missing_queues: list[str] = field(default_factory=list)
    #: (queue, interface) of lawyers off duty whom AMI cannot remove (static members in queues.conf).
    stuck: list[tuple[str, str]] = field(default_factory=list)
    #: False when QueueStatus came back cut short: then nothing was removed.
    complete: bool = True

    @property
    def sent(self) -> int:
        return len(self.applied) + len(self.converged) + len(self.failed)


def _load(sessions: sessionmaker[Session], local_now: datetime) -> tuple[list[Shift], frozenset[str]]:
    with sessions() as session:
        shifts = store.load_shifts(session, local_now.date(), local_now.date())
        managed = store.lawyer_directory(session).interfaces
    return shifts, managed


async def reconcile_once(
    action: Action,
    sessions: sessionmaker[Session],
    queues_config: Iterable[NamedQueue | str],
    now: datetime,
    tz: tzinfo = DEFAULT_TZ,
    timeout: float = 5.0,
    node: NodeScope | None = None,
) -> ReconcileReport:
    """One pass: QueueStatus, plan, QueueAdd/QueueRemove/QueuePenalty. Raises what QueueStatus raises
    (connection lost, Asterisk refusing it); a refused member action is reported and the pass goes on.

    With `node`, only the shifts of that node's lawyers are seated; every lawyer's phone is still
    managed, so a lawyer of another node found in these queues (moved, or added by hand) is removed."""
    local_now = local_wall_clock(now, tz)
    queues = [q if isinstance(q, str) else q.name for q in queues_config]
    shifts, managed = await asyncio.to_thread(_load, sessions, local_now)
    if node is not None:
        shifts = [s for s in shifts if lawyer_node(s.node, node.home) == node.name]
    status = await action("QueueStatus", timeout=timeout)
    snapshot = parse_queue_status(status if isinstance(status, list) else [status])
    desired = desired_membership(shifts, local_now, queues=queues)
    report = ReconcileReport(now, [s for s in shifts if s.on_duty(local_now)], complete=snapshot.complete)
    report.missing_queues = missing_queues(desired, snapshot.members)
    report.stuck = [(q, m.interface) for q, m in stuck_members(desired, snapshot.members, managed)]
    for queue in report.missing_queues:
        if desired[queue]:
            logger.warning(
                "roster: queue %s is not defined in Asterisk (queues.conf); cannot seat %s",
                queue,
                ", ".join(sorted(desired[queue])),
            )
    for queue, interface in report.stuck:
        logger.warning(
            "roster: %s is a static member of %s outside its shift; remove it from queues.conf", interface, queue
        )
    why = {s.interface: f"on duty {s.label}" for s in report.on_duty}
    for planned in plan_reconciliation(desired, snapshot.members, managed=managed, complete=snapshot.complete):
        reason = "off duty" if isinstance(planned, QueueRemove) else why.get(planned.interface, "on duty")
        try:
            await action(planned.action, timeout=timeout, **planned.fields())
        except AmiActionError as exc:
            if _already_done(planned, exc.message):
                report.converged.append(planned)
                logger.info("roster: %s: already so (%s)", planned.describe(), exc.message)
            else:
                report.failed.append((planned, exc.message))
                logger.warning("roster: %s refused: %s", planned.describe(), exc.message)
            continue
        report.applied.append(planned)
        logger.info("roster: %s: %s", planned.describe(), reason)
    return report


def _already_done(planned: MemberAction, message: str) -> bool:
    if isinstance(planned, QueueAdd):
        return message.endswith("Already there")
    if isinstance(planned, QueueRemove):
        return message.endswith("Not there")
    return False


def seconds_to_next_pass(now: datetime) -> float:
    """Seconds until PASS_OFFSET_S past the next minute."""
    minute = now.replace(second=0, microsecond=0)
    due = minute + timedelta(seconds=PASS_OFFSET_S)
    if due <= now:
        due += timedelta(minutes=1)
    return (due - now).total_seconds()


async def reconcile_forever(
    action: Action,
    sessions: sessionmaker[Session],
    queues_config: Iterable[NamedQueue | str],
    tz: tzinfo = DEFAULT_TZ,
    clock: Callable[[], datetime] | None = None,
    node: NodeScope | None = None,
) -> None:
    """Reconcile now and then a couple of seconds after every minute, until cancelled.

    A failed pass (Asterisk away, database down) is logged and retried at the next minute."""
    queues = list(queues_config)
    clock = clock or (lambda: datetime.now(tz))
    while True:
        try:
            report = await reconcile_once(action, sessions, queues, clock(), tz, node=node)
            if report.sent:
                logger.info(
                    "roster pass: %d changed, %d already so, %d refused; %d shift(s) on duty",
                    len(report.applied),
                    len(report.converged),
                    len(report.failed),
                    len(report.on_duty),
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("roster pass failed; retrying at the next minute")
        await asyncio.sleep(seconds_to_next_pass(clock()))
