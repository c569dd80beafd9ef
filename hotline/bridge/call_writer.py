"""Call records to `calls` rows, in batches, without losing one when the database goes away.

The bridge submits a snapshot of a call whenever something that matters changes (start, queue,
answer, end). Snapshots are coalesced per Linkedid (the newest wins: each is the whole record) and
upserted in batches, so a burst of events costs a few statements. When the database is unreachable
the snapshots stay pending and are retried with backoff; `overloaded` tells the bridge to stop
reading from Asterisk until the backlog shrinks, so memory stays bounded and nothing is dropped.
Ending a call with recordings also queues their transcription through the outbox, in the same
transaction as the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.asr.store import transcript_for_linkedid
from hotline.domain.call_tracker import CallRecord, Outcome
from hotline.logging_setup import mask_numbers
from hotline.reports.kpi import refresh_hours
from storage.dialect import upsert
from storage.tables import Call, Caller, IvrSession, Transcript, User
from ticketing.domain.events import RecordingFinished
from ticketing.events import emit

logger = logging.getLogger(__name__)

#: Columns the bridge owns; the IVR, the ASR jobs and the survey write the others.
_BRIDGE_COLUMNS = (
    "uniqueid",
    "direction",
    "caller_number",
    "queue",
    "agent_interface",
    "lawyer_id",
    "started_at",
    "offered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "wrapup_seconds",
    "outcome",
    "in_hours",
    "recording_paths",
    "reconciled_by",
    "end_seen",
)


def _at(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def call_row(call: CallRecord, wrapup_s: float = 0.0) -> dict[str, Any]:
    """The `calls` columns of a record (a snapshot: later changes to the record do not touch it)."""
    talk = call.talk_seconds
    return {
        "linkedid": call.linkedid,
        "uniqueid": call.linkedid,
        "direction": call.direction,
        "caller_number": (call.caller_number or None) and call.caller_number[:32],
        "queue": call.queue,
        "agent_interface": call.agent_interface,
        "started_at": _at(call.started_at),
        "offered_at": _at(call.offered_at),
        "answered_at": _at(call.answered_at),
        "ended_at": _at(call.ended_at),
        "wait_seconds": call.wait_seconds,
        "talk_seconds": talk,
        # Handle time is talk + wrap-up: unknown together when the call's end was not seen.
        "wrapup_seconds": wrapup_s if talk is not None and call.ended_at is not None and call.queue else None,
        "outcome": call.outcome.value,
        "in_hours": not call.closed_hours,
        "recording_paths": list(call.recording_paths),
        "reconciled_by": call.reconciled_by,
        "end_seen": call.end_seen,
    }


def restore_record(row: Call) -> CallRecord:
    """What the database knew of a call still in progress, for the resync after a bridge restart."""

    def epoch(value: datetime | None) -> float | None:
        return None if value is None else value.timestamp()

    return CallRecord(
        linkedid=row.linkedid,
        direction=row.direction,
        caller_number=row.caller_number,
        started_at=epoch(row.started_at),
        queue=row.queue,
        offered_at=epoch(row.offered_at),
        answered_at=epoch(row.answered_at),
        agent_interface=row.agent_interface,
        closed_hours=not row.in_hours,
        recording_paths=list(row.recording_paths or []),
    )


class CallWriter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        wrapup_s: float = 0.0,
        sl_threshold_s: int | None = 20,
        node: str = "default",
        batch_size: int = 1000,
        flush_interval_s: float = 0.2,
        max_pending: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.wrapup_s = wrapup_s
        #: The Asterisk node whose calls these are (a call is node + Linkedid).
        self.node = node
        #: Keep the hourly KPI rollup current for this SL threshold (None: leave it alone).
        self.sl_threshold_s = sl_threshold_s
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_pending = max_pending
        self.pending: dict[str, dict[str, Any]] = {}
        self.written = 0
        self.failures = 0
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._clock = clock
        self._interfaces: dict[str, int | None] = {}

    def submit(self, call: CallRecord) -> None:
        self.pending[call.linkedid] = {**call_row(call, self.wrapup_s), "node": self.node}
        if len(self.pending) >= self.batch_size:
            self._wake.set()

    @property
    def overloaded(self) -> bool:
        return len(self.pending) >= self.max_pending

    @property
    def drained_enough(self) -> bool:
        return len(self.pending) < self.max_pending // 2

    async def run(self) -> None:
        """Flush forever: every interval, or sooner when a batch is full; back off while failing."""
        backoff = 0.5
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that comes
            # with the wake-up, and the bridge being stopped would wait for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_interval_s):
                    await self._wake.wait()
            self._wake.clear()
            while self.pending:
                if await self.flush_once():
                    backoff = 0.5
                    continue
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def flush_once(self) -> bool:
        """Write up to one batch; False (and the rows kept) when the database refused."""
        batch = dict(list(self.pending.items())[: self.batch_size])
        try:
            await asyncio.to_thread(self._write, list(batch.values()))
        except SQLAlchemyError as exc:
            self.failures += 1
            self.last_error = str(exc).splitlines()[0][:300]
            if self.failures == 1 or self.failures % 20 == 0:
                logger.warning(
                    "calls not written (%d pending, attempt %d), will retry: %s",
                    len(self.pending),
                    self.failures,
                    mask_numbers(self.last_error),
                )
            return False
        if self.failures:
            logger.info("database back after %d failed attempt(s); %d calls written", self.failures, len(batch))
        self.failures = 0
        self.last_error = None
        for linkedid, row in batch.items():
            if self.pending.get(linkedid) is row:  # a newer snapshot submitted meanwhile stays pending
                del self.pending[linkedid]
        self.written += len(batch)
        return True

    async def drain(self, timeout: float = 10.0) -> None:
        deadline = self._clock() + timeout
        while self.pending and self._clock() < deadline:
            if not await self.flush_once():
                await asyncio.sleep(0.2)

    # -- the database side (runs in a worker thread) ------------------------------------------------
    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.sessions.begin() as session:
            self._resolve_lawyers(session, rows)
            ended = [r for r in rows if r["outcome"] != Outcome.IN_PROGRESS.value]
            callers = self._upsert_callers(session, [r for r in ended if r["direction"] == "inbound"])
            for row in rows:
                row["caller_id"] = callers.get(row["caller_number"]) if row["caller_number"] else None
            statement = upsert(session, Call)
            update = {name: statement.excluded[name] for name in _BRIDGE_COLUMNS}
            update["caller_id"] = func.coalesce(statement.excluded.caller_id, Call.caller_id)
            session.execute(statement.on_conflict_do_update(index_elements=["node", "linkedid"], set_=update), rows)
            self._copy_ivr_sessions(session, self.node, [row["linkedid"] for row in rows])
            for row in ended:
                for path in row["recording_paths"]:
                    emit(session, RecordingFinished(path, row["linkedid"]))
            self._copy_transcripts(session, self.node, [row["linkedid"] for row in ended])
            if self.sl_threshold_s is not None:
                session.flush()
                refresh_hours(session, (row["offered_at"] for row in rows), self.sl_threshold_s)

    @staticmethod
    def _copy_transcripts(session: Session, node: str, linkedids: list[str]) -> None:
        """A recording transcribed before its call row was written (a voicemail): fill the text in."""
        if not linkedids:
            return
        found = session.scalars(select(Transcript.linkedid).where(Transcript.linkedid.in_(linkedids)).distinct()).all()
        for linkedid in found:
            text = transcript_for_linkedid(session, linkedid)
            if text is not None:
                session.execute(
                    update(Call).where(Call.node == node, Call.linkedid == linkedid).values(transcript=text)
                )

    @staticmethod
    def _copy_ivr_sessions(session: Session, node: str, linkedids: list[str]) -> None:
        """The IVR writes its path and the survey score on ivr_sessions (it may finish before or after
        this row exists); copy them onto the calls being written."""
        session.execute(
            update(Call)
            .where(Call.node == node, Call.linkedid.in_(linkedids), Call.linkedid == IvrSession.uniqueid)
            .values(ivr_path=IvrSession.path, survey_score=func.coalesce(Call.survey_score, IvrSession.survey_score))
            .execution_options(synchronize_session=False)
        )

    def _resolve_lawyers(self, session: Session, rows: list[dict[str, Any]]) -> None:
        unknown = {r["agent_interface"] for r in rows if r["agent_interface"]} - set(self._interfaces)
        if unknown:
            found = dict(session.execute(select(User.interface, User.id).where(User.interface.in_(unknown))).all())
            for interface in unknown:
                self._interfaces[interface] = found.get(interface)
        for row in rows:
            row["lawyer_id"] = self._interfaces.get(row["agent_interface"]) if row["agent_interface"] else None

    def forget_lawyers(self) -> None:
        """Accounts changed: look interfaces up again."""
        self._interfaces.clear()

    @staticmethod
    def _upsert_callers(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        last_seen: dict[str, datetime] = {}
        for row in rows:
            number = row["caller_number"]
            if number:
                counts[number] = counts.get(number, 0) + 1
                seen = row["started_at"] or datetime.now(UTC)
                last_seen[number] = max(last_seen.get(number, seen), seen)
        if not counts:
            return {}
        statement = upsert(session, Caller)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["number"],
                set_={
                    "call_count": Caller.call_count + statement.excluded.call_count,
                    "last_seen_at": statement.excluded.last_seen_at,
                },
            ),
            [
                {
                    "number": n,
                    "call_count": c,
                    "groups": [],
                    "first_seen_at": last_seen[n],
                    "last_seen_at": last_seen[n],
                }
                for n, c in sorted(counts.items())
            ],
        )
        return dict(session.execute(select(Caller.number, Caller.id).where(Caller.number.in_(counts))).all())


def load_in_progress(sessions: sessionmaker[Session], node: str = "default") -> dict[str, CallRecord]:
    """Calls of this node the database still shows in progress (its bridge stopped before they ended)."""
    with sessions() as session:
        rows = session.scalars(select(Call).where(Call.node == node, Call.outcome == Outcome.IN_PROGRESS.value)).all()
        return {row.linkedid: restore_record(row) for row in rows}
