"""Retention of personal data (DESIGN.md §6): recordings and transcripts are kept for
HOTLINE_RETENTION_DAYS after the call, then deleted; the tickets keep their own text (description,
result, comments), only their copy of the transcript goes.

Run hourly by the scheduler (hotline.jobs.periodic.purge_personal_data); safe to run twice or in parallel:
each pass deletes what is past the cutoff and finds nothing the second time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.recordings import inside_recordings
from storage.tables import Call, IvrSession, Ticket, Transcript

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    cutoff: datetime
    calls: int = 0
    files_deleted: int = 0
    files_missing: int = 0
    #: Paths outside the recordings folder: never deleted, only reported.
    files_refused: int = 0
    transcripts: int = 0
    tickets: int = 0
    voicemails: int = 0


def _delete_file(path: str, recordings_dir: Path, report: PurgeReport) -> None:
    """Recordings live on the Asterisk host's spool, shared with the workers; one not reachable from
    here is counted, not an error (the PBX's own retention then applies). A path that is not inside
    `recordings_dir` once resolved (links and `..` followed) is never deleted."""
    target = inside_recordings(path, recordings_dir)
    if target is None:
        report.files_refused += 1
        logger.warning(
            "retention: %s is outside the recordings folder %s; not deleted", Path(path).name, recordings_dir
        )
        return
    try:
        os.unlink(target)
        report.files_deleted += 1
    except FileNotFoundError:
        report.files_missing += 1
    except OSError as exc:
        report.files_missing += 1
        logger.warning("recording %s not deleted: %s", Path(path).name, exc)


def purge(
    sessions: sessionmaker[Session], now: datetime, retention_days: int, recordings_dir: Path, batch: int = 500
) -> PurgeReport:
    """Delete recordings and transcripts of calls that ended more than `retention_days` ago; files only
    inside `recordings_dir` (HOTLINE_RECORDINGS_DIR)."""
    report = PurgeReport(now - timedelta(days=retention_days))
    while True:
        with sessions.begin() as session:
            rows = session.execute(
                select(Call.id, Call.linkedid, Call.recording_paths)
                .where(
                    func.coalesce(Call.ended_at, Call.started_at) < report.cutoff,
                    or_(Call.transcript.is_not(None), cast(Call.recording_paths, String) != "[]"),
                )
                .limit(batch)
            ).all()
            if not rows:
                break
            for _id, _linkedid, paths in rows:
                for path in paths or []:
                    _delete_file(path, recordings_dir, report)
            ids = [row.id for row in rows]
            linkedids = [row.linkedid for row in rows]
            session.execute(update(Call).where(Call.id.in_(ids)).values(transcript=None, recording_paths=[]))
            report.transcripts += session.execute(delete(Transcript).where(Transcript.linkedid.in_(linkedids))).rowcount
            report.calls += len(ids)
    with sessions.begin() as session:
        voicemails = session.execute(
            select(IvrSession.id, IvrSession.recording_path).where(
                IvrSession.recording_path.is_not(None), IvrSession.started_at < report.cutoff
            )
        ).all()
        for _id, path in voicemails:
            _delete_file(path, recordings_dir, report)
        if voicemails:
            session.execute(
                update(IvrSession).where(IvrSession.id.in_([v.id for v in voicemails])).values(recording_path=None)
            )
            paths = [v.recording_path for v in voicemails]
            report.transcripts += session.execute(delete(Transcript).where(Transcript.path.in_(paths))).rowcount
        report.voicemails = len(voicemails)
        report.tickets = session.execute(
            update(Ticket)
            .where(Ticket.transcript.is_not(None), Ticket.created_at < report.cutoff)
            .values(transcript=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    logger.info(
        "retention: %d calls, %d voicemails, %d transcripts, %d ticket transcripts purged (before %s);"
        " %d recording files deleted, %d not reachable here, %d outside the recordings folder",
        report.calls,
        report.voicemails,
        report.transcripts,
        report.tickets,
        report.cutoff.date(),
        report.files_deleted,
        report.files_missing,
        report.files_refused,
    )
    return report
