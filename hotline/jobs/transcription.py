"""The transcription job: a recording path in, a transcript on the call and ticket out; safe to run twice.

Started by the `RecordingFinished` event, which the bridge records for every recording of a
finished call and the IVR for each voicemail with its ticket code. Failures that more attempts
cannot fix (no model, an empty, corrupt, truncated or unsupported file) are stored with their
reason and end the job; only transient ones (the file not there yet, the database or Redis
away) raise, so rq runs the job again, at most `RETRY.max` times. A worker killed mid-job
leaves the job in rq's started registry, which hands it back to the queue with the same bound.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from rq import Retry, get_current_job
from rq.timeouts import JobTimeoutException
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hotline.asr import store
from hotline.asr.errors import AsrError, Reason, RecordingMissing
from hotline.asr.model import LoadedModel, configured_model
from hotline.bootstrap import Context
from hotline.jobs import worker
from hotline.live.feed import append_to_feed
from storage.tables import Transcript
from storage.tables.base import utcnow

logger = logging.getLogger(__name__)

ASR_QUEUE = "asr"
RETRY = Retry(max=3, interval=[30, 120, 600])
#: rq options for this job, used by the outbox relay. A two-hour call at a real-time factor of 0.5
#: takes an hour; a stuck job is stopped after this and stored as failed (timeout).
ENQUEUE_OPTIONS: dict[str, Any] = {"job_timeout": 3 * 3600, "retry": RETRY}


def transcribe_recording(
    path: str, linkedid: str | None = None, ticket_code: str | None = None, context: Context | None = None
) -> dict[str, Any]:
    """rq job: transcribe `path`, store it, attach it to call `linkedid` and ticket `ticket_code`."""
    job = get_current_job()
    may_retry = job is not None and job.retries_left is not None and job.retries_left > 0
    return process_recording(context or worker.worker_context(), path, linkedid, ticket_code, may_retry=may_retry)


def process_recording(
    context: Context,
    path: str,
    linkedid: str | None = None,
    ticket_code: str | None = None,
    *,
    may_retry: bool = False,
    force: bool = False,
    model: LoadedModel | None = None,
) -> dict[str, Any]:
    """Transcribe and store one recording (the job, and `hotline transcribe --store`); returns a summary."""
    from hotline.asr.audio import file_sha256
    from hotline.asr.transcribe import transcribe_file

    with context.sessions.begin() as session:
        row = store.claim(session, path, linkedid, ticket_code)
        row_id, previous_status, previous_sha = row.id, row.status, row.audio_sha256
        label = row.linkedid or row.ticket_code or f"transcript {row.id}"
    try:
        sha = file_sha256(path)
    except RecordingMissing:  # purged since a transcript was made (keep it), or not there yet (fails below)
        sha = previous_sha if previous_status == store.TranscriptStatus.DONE else None
    if previous_status == store.TranscriptStatus.DONE and sha == previous_sha and not force:
        logger.info("%s: %s already transcribed; attaching again", label, path)
        return _finish(context, row_id, label)

    with context.sessions.begin() as session:
        store.start_attempt(_row(session, row_id), utcnow())
    try:
        result = transcribe_file(path, model or configured_model(context.settings))
        if sha is None:
            sha = file_sha256(path)
    except AsrError as exc:
        return _fail(context, row_id, label, exc, may_retry)
    except JobTimeoutException:
        limit = ENQUEUE_OPTIONS["job_timeout"] // 60
        message = f"{path}: stopped after the {limit}-minute job limit; transcribe it with `hotline transcribe --store`"
        return _fail(context, row_id, label, AsrError(message, Reason.TIMEOUT), False)
    except (OperationalError, redis.RedisError):
        raise  # the database or Redis is away: rq runs the job again later
    except Exception as exc:  # a bug, or Vosk failing: stored and logged, not retried
        logger.exception("%s: transcribing %s failed unexpectedly", label, path)
        return _fail(context, row_id, label, AsrError(f"internal error: {type(exc).__name__}: {exc}"), False)

    with context.sessions.begin() as session:
        row = _row(session, row_id)
        store.record_success(row, result, sha, utcnow())
        store.attach(session, row)
    logger.info(
        "%s: transcribed %s (%.1f s of audio, RTF %.2f, %d words)",
        label,
        path,
        result.duration_s,
        result.rtf,
        len(result.words),
    )
    return _finish(context, row_id, label)


def _fail(context: Context, row_id: int, label: str, error: AsrError, may_retry: bool) -> dict[str, Any]:
    final = not (error.transient and may_retry)
    with context.sessions.begin() as session:
        store.record_failure(_row(session, row_id), error, utcnow(), final=final)
    if not final:
        logger.warning("%s: %s; will try again", label, error)
        raise error
    logger.warning("%s: transcription failed (%s): %s", label, error.reason.value, error)
    return _finish(context, row_id, label)


def _finish(context: Context, row_id: int, label: str) -> dict[str, Any]:
    """Attach again (cheap, idempotent) and tell the consoles once per outcome: ids only, no text."""
    with context.sessions.begin() as session:
        row = _row(session, row_id)
        if row.status == store.TranscriptStatus.DONE:
            store.attach(session, row)
        notice = {
            "type": "transcript",
            "transcript_id": row.id,
            "status": row.status,
            "error_code": row.error_code,
            "linkedid": row.linkedid,
            "ticket_code": row.ticket_code,
            "duration_s": row.duration_s,
        }
        announce = row.announced_at is None
    if announce:
        append_to_feed(context.redis.client, notice)
        with context.sessions.begin() as session:
            _row(session, row_id).announced_at = utcnow()
        logger.info("%s: transcript %d %s announced", label, row_id, notice["status"])
    return notice


def _row(session: Session, row_id: int) -> Transcript:
    row = session.get(Transcript, row_id, with_for_update=True)
    if row is None:  # deleted under us (a purge): nothing to do but say so
        raise AsrError(f"transcript {row_id} was deleted while the job ran")
    return row
