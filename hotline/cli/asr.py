"""`hotline transcribe PATH...`: transcribe files or folders, e.g. to back-fill old recordings.

Without --store nothing is written anywhere; with it each file goes through the job's own code
(stored, attached to its call when a Call row lists the path, announced), so a back-fill and the
live job cannot disagree.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer

from hotline.asr.errors import AsrError, ModelUnavailable
from settings.env import Settings

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = {".wav", ".gsm", ".ulaw", ".ul", ".alaw", ".al", ".sln", ".sln16", ".raw", ".flac", ".ogg", ".au"}


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the audio files under each folder (recursively, sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        else:
            files.append(path)  # a missing file is reported in its turn, not skipped
    return files


def run(
    settings: Settings, paths: list[Path], as_json: bool, store: bool, force: bool, context: Any | None = None
) -> int:
    """Transcribe `paths`; returns the exit status (0 all done, 1 some failed, 2 nothing to do)."""
    from hotline.asr.model import configured_model

    files = expand(paths)
    if not files:
        typer.echo(f"no audio files in {', '.join(map(str, paths))}", err=True)
        return 2
    try:
        model = configured_model(settings)
    except ModelUnavailable as exc:
        typer.echo(str(exc), err=True)
        return 2
    own_context = store and context is None
    if own_context:
        context = _store_context(settings)
    elif not store:
        context = None
    linkedids = _linkedids(context, files) if context else {}
    audio_s = processing_s = 0.0
    failed = 0
    try:
        with typer.progressbar(files, label="transcribing", file=sys.stderr, show_pos=True) as progress:
            for path in progress:
                started = time.perf_counter()
                if context is None:
                    output = _transcribe(path, model)
                else:  # stored under its absolute path, as Asterisk names recordings
                    path = path.absolute()
                    output = _transcribe_and_store(context, path, linkedids.get(str(path)), model, force)
                elapsed = time.perf_counter() - started
                if output["error"]:
                    failed += 1
                else:
                    audio_s += output["duration_s"] or 0.0
                    processing_s += elapsed
                _print(output, as_json)
    finally:
        if own_context:
            context.close()
    rtf = processing_s / audio_s if audio_s else 0.0
    typer.echo(
        f"{len(files)} file(s): {len(files) - failed} transcribed, {failed} failed; {audio_s:.1f} s of audio "
        f"in {processing_s:.1f} s, real-time factor {rtf:.3f} (model {model.name})",
        err=as_json,
    )
    return 1 if failed else 0


def _transcribe(path: Path, model: Any) -> dict[str, Any]:
    from hotline.asr.transcribe import transcribe_file

    try:
        result = transcribe_file(path, model)
    except AsrError as exc:
        return _failure(path, exc.reason.value, str(exc))
    except Exception as exc:  # one bad file must not end a back-fill of thousands
        logger.exception("transcribing %s failed unexpectedly", path)
        return _failure(path, "internal", f"{type(exc).__name__}: {exc}")
    body = result.as_json()
    fields = ("path", "text", "raw_text", "words", "segments", "duration_s", "rtf")
    return {**{key: body[key] for key in fields}, "error": None}


def _transcribe_and_store(context: Any, path: Path, linkedid: str | None, model: Any, force: bool) -> dict[str, Any]:
    from sqlalchemy import select

    from hotline.jobs.transcription import process_recording
    from storage.tables import Transcript

    process_recording(context, str(path), linkedid, model=model, force=force)
    with context.sessions() as session:
        row = session.scalars(select(Transcript).where(Transcript.path == str(path))).one()
        if row.status != "done":
            return _failure(path, row.error_code or "internal", row.error or row.status)
        return {
            "path": str(path),
            "text": row.text,
            "raw_text": row.raw_text,
            "words": row.words,
            "segments": row.segments,
            "duration_s": row.duration_s,
            "rtf": row.rtf,
            "linkedid": row.linkedid,
            "error": None,
        }


def _failure(path: Path, code: str, message: str) -> dict[str, Any]:
    empty = {"text": None, "raw_text": None, "words": [], "segments": [], "duration_s": None, "rtf": None}
    return {"path": str(path), **empty, "error": {"code": code, "message": message}}


def _print(output: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(output, ensure_ascii=False))
    elif output["error"]:
        typer.echo(f"✗ {output['path']}: {output['error']['code']}: {output['error']['message']}")
    else:
        text = (output["text"] or "(no speech)").replace("\n", " / ")
        typer.echo(f"✓ {output['path']} ({output['duration_s']:.1f} s, RTF {output['rtf']:.2f}): {text}")


def _store_context(settings: Settings) -> Any:
    from hotline.bootstrap import build_context

    return build_context(settings)


def _linkedids(context: Any, files: list[Path]) -> dict[str, str]:
    """Which call each file belongs to, from the calls' recording paths (one pass over the calls)."""
    from sqlalchemy import select

    from storage.tables import Call

    wanted = {str(path.absolute()) for path in files}
    found: dict[str, str] = {}
    with context.sessions() as session:
        rows = session.execute(select(Call.linkedid, Call.recording_paths).execution_options(yield_per=1000))
        for linkedid, recording_paths in rows:
            for path in recording_paths or []:
                if path in wanted:
                    found[path] = linkedid
    return found
