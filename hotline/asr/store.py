"""Keeping transcripts: one row per recording path, copied onto the call and the ticket as one text.

`transcript_for_linkedid` and `transcript_for_ticket` give the merged text of every finished
recording of a call or ticket; the bridge calls the first when it writes a Call row after the
transcript already exists (the job fills calls.transcript itself when the row is there first).
`recordings_of_call` says, per recording, whether it is done, pending or failed and why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.asr import segments
from hotline.asr.errors import AsrError
from hotline.asr.transcribe import TranscriptResult
from storage.tables import Call, Ticket, Transcript, ticket_calls
from ticketing.domain.events import TicketNeedsRouting
from ticketing.events import emit


class TranscriptStatus(StrEnum):
    #: claimed by a job that has not started recognising yet
    PENDING = "pending"
    RUNNING = "running"
    #: failed for a reason that may pass (file not there yet); the job will run again
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"


def claim(session: Session, path: str, linkedid: str | None, ticket_code: str | None) -> Transcript:
    """The row for `path`, created if new; ids given now are kept, ids not given are not erased."""
    row = session.scalar(select(Transcript).where(Transcript.path == path).with_for_update())
    if row is None:
        try:
            with session.begin_nested():
                row = Transcript(path=path, status=TranscriptStatus.PENDING, words=[], segments=[])
                session.add(row)
        except IntegrityError:  # another job created it at the same moment
            row = session.scalars(select(Transcript).where(Transcript.path == path).with_for_update()).one()
    if linkedid:
        row.linkedid = linkedid
    if ticket_code:
        row.ticket_code = ticket_code
    return row


def start_attempt(row: Transcript, now: datetime) -> None:
    row.status = TranscriptStatus.RUNNING
    row.attempts += 1
    row.started_at = now


def record_success(row: Transcript, result: TranscriptResult, audio_sha256: str, now: datetime) -> None:
    row.status = TranscriptStatus.DONE
    row.error_code = row.error = None
    row.text, row.raw_text = result.text, result.raw_text
    row.words, row.segments = result.words, result.segments
    row.model, row.audio_format, row.audio_sha256 = result.model, result.audio_format, audio_sha256
    row.duration_s, row.rtf = round(result.duration_s, 3), round(result.rtf, 4)
    row.finished_at = now
    row.announced_at = None  # a new result is news


def record_failure(row: Transcript, error: AsrError, now: datetime, *, final: bool) -> None:
    status = TranscriptStatus.FAILED if final else TranscriptStatus.RETRYING
    if (row.status, row.error_code) != (status, error.reason.value):
        row.announced_at = None
    row.status, row.error_code, row.error = status, error.reason.value, str(error)
    row.finished_at = now if final else None


def attach(session: Session, row: Transcript) -> None:
    """Copy the merged text onto the call (if its row exists yet) and onto the tickets concerned."""
    codes: set[str] = set()
    if row.linkedid:
        text = transcript_for_linkedid(session, row.linkedid)
        session.execute(update(Call).where(Call.linkedid == row.linkedid).values(transcript=text))
        codes |= set(
            session.scalars(
                select(Ticket.code)
                .join(ticket_calls, ticket_calls.c.ticket_id == Ticket.id)
                .join(Call, Call.id == ticket_calls.c.call_id)
                .where(Call.linkedid == row.linkedid)
            )
        )
    if row.ticket_code:
        codes.add(row.ticket_code)
    for code in sorted(codes):
        # A plain UPDATE: the transcript is not the lawyer's text, so it must not bump the
        # ticket's optimistic-lock version and turn a lawyer's concurrent save into a conflict.
        text = transcript_for_ticket(session, code)
        session.execute(update(Ticket).where(Ticket.code == code).values(transcript=text))
    # The router reads the transcript too: route the tickets again, in this same transaction.
    for ticket_id in session.scalars(select(Ticket.id).where(Ticket.code.in_(codes))) if codes else []:
        emit(session, TicketNeedsRouting(ticket_id))


def transcript_for_linkedid(session: Session, linkedid: str) -> str | None:
    """Merged, cleaned text of the call's finished recordings in the call's recording order.

    None when no recording of the call has been transcribed yet; "" when they were, and held no speech.
    """
    rows = _done(session, Transcript.linkedid == linkedid)
    order = session.scalar(select(Call.recording_paths).where(Call.linkedid == linkedid)) or []
    return _merge(rows, order)


def recordings_of_call(session: Session, linkedid: str) -> list[dict[str, object]]:
    """Each recording's transcription state, for showing on the call: why one failed, or that it is pending."""
    rows = session.scalars(select(Transcript).where(Transcript.linkedid == linkedid).order_by(Transcript.id))
    return [
        {
            "path": row.path,
            "status": row.status,
            "error_code": row.error_code,
            "error": row.error,
            "duration_s": row.duration_s,
            "model": row.model,
        }
        for row in rows
    ]


def transcript_for_ticket(session: Session, ticket_code: str) -> str | None:
    """Merged text of the ticket's own recordings (a voicemail) and of the calls linked to it."""
    linked = (
        select(Call.linkedid)
        .join(ticket_calls, ticket_calls.c.call_id == Call.id)
        .join(Ticket, Ticket.id == ticket_calls.c.ticket_id)
        .where(Ticket.code == ticket_code)
    )
    rows = _done(session, or_(Transcript.ticket_code == ticket_code, Transcript.linkedid.in_(linked)))
    return _merge(rows, [])


def _done(session: Session, condition: ColumnElement[bool]) -> list[Transcript]:
    return list(
        session.scalars(
            select(Transcript).where(condition, Transcript.status == TranscriptStatus.DONE).order_by(Transcript.id)
        )
    )


def _merge(rows: list[Transcript], order: list[str]) -> str | None:
    if not rows:
        return None
    position = {path: index for index, path in enumerate(order)}
    rows = sorted(rows, key=lambda row: (position.get(row.path, len(position)), row.id))
    return segments.merge_recordings([(row.path, row.segments) for row in rows])
