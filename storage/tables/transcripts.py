"""Speech-recognition transcripts: one row per recording file, linked to its call and ticket by id.

A call may have several recordings (a transfer, or one file per leg); the call's and the ticket's
`transcript` columns hold the merged, cleaned text of their rows. Transcripts are personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables.base import Base, utcnow


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The recording as the job was given it; a re-run for the same path updates this row.
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    #: Asterisk Linkedid of the call; the Call row may be written after the transcript.
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    ticket_code: Mapped[str | None] = mapped_column(String(32), index=True)
    #: running / retrying / done / failed (hotline.asr.store.TranscriptStatus)
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: Stable reason id when not done: no_model, model_error, missing, empty, corrupt, truncated,
    #: unsupported, timeout, transient, internal.
    error_code: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    #: Cleaned text (no spaces between Chinese words, numbers as digits), with speaker labels when known.
    text: Mapped[str | None] = mapped_column(Text)
    #: Vosk's own output, words separated by spaces.
    raw_text: Mapped[str | None] = mapped_column(Text)
    #: [{"word", "start", "end", "conf", "speaker"}], times in seconds from the start of the file.
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: [{"speaker", "start", "end", "text"}], speaker "caller" / "lawyer" or None for a mixed mono file.
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model: Mapped[str | None] = mapped_column(String(200))
    #: e.g. "WAV ULAW 8000 Hz x1", as decoded.
    audio_format: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 of the file: a re-run on the same bytes with the same model reuses the transcript.
    audio_sha256: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[float | None]
    #: Real-time factor: processing seconds per second of audio.
    rtf: Mapped[float | None]
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: When the notice went to the consoles' feed; set once, so a re-run does not announce twice.
    announced_at: Mapped[datetime | None]
