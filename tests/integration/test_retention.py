"""Recordings and transcripts are deleted after the retention period; tickets keep their text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from hotline.bootstrap import Context
from hotline.jobs.periodic import purge_personal_data
from hotline.retention import purge
from storage.tables import Call, IvrSession, Ticket, Transcript

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def call(linkedid: str, ended: datetime, recording: Path) -> Call:
    return Call(linkedid=linkedid, started_at=ended - timedelta(minutes=5), ended_at=ended, outcome="answered",
                recording_paths=[str(recording)], transcript="我想咨询离婚财产分割")  # fmt: skip


def test_old_recordings_and_transcripts_go_and_recent_ones_stay(context: Context, tmp_path: Path) -> None:
    old_wav, new_wav, voicemail = tmp_path / "old.wav", tmp_path / "new.wav", tmp_path / "vm.wav"
    for file in (old_wav, new_wav, voicemail):
        file.write_bytes(b"RIFF")
    with context.sessions.begin() as session:
        session.add_all(
            [
                call("1.1", NOW - timedelta(days=200), old_wav),
                call("1.2", NOW - timedelta(days=10), new_wav),
                call("1.3", NOW - timedelta(days=300), tmp_path / "on-the-pbx-host.wav"),  # not reachable here
                Transcript(path=str(old_wav), linkedid="1.1", status="done", text="旧"),
                Transcript(path=str(new_wav), linkedid="1.2", status="done", text="新"),
                IvrSession(uniqueid="1.9", recording_path=str(voicemail), started_at=NOW - timedelta(days=181)),
                Transcript(path=str(voicemail), linkedid="1.9", ticket_code="12348-20260501-000001", status="done"),
                Ticket(code="12348-20260501-000001", channel="voicemail", status="已受理", description="语音留言：讨薪",
                       transcript="我的工资被拖欠了三个月", created_at=NOW - timedelta(days=200)),
            ]
        )  # fmt: skip

    report = purge(context.sessions, NOW, retention_days=180, recordings_dir=tmp_path)
    assert (report.calls, report.voicemails, report.tickets) == (2, 1, 1)
    assert report.files_deleted == 2 and report.files_missing == 1
    assert not old_wav.exists() and not voicemail.exists() and new_wav.exists()
    with context.sessions() as session:
        calls = {c.linkedid: c for c in session.scalars(select(Call))}
        assert calls["1.1"].transcript is None and calls["1.1"].recording_paths == []
        assert calls["1.2"].transcript is not None and calls["1.2"].recording_paths == [str(new_wav)]
        assert [t.linkedid for t in session.scalars(select(Transcript))] == ["1.2"]
        ticket = session.scalar(select(Ticket))
        assert ticket is not None and ticket.transcript is None and ticket.description == "语音留言：讨薪"
    again = purge(context.sessions, NOW, retention_days=180, recordings_dir=tmp_path)
    assert (again.calls, again.voicemails, again.transcripts, again.files_deleted) == (0, 0, 0, 0)


def test_retention_zero_keeps_everything(context: Context) -> None:
    context.settings.retention_days = 0
    try:
        assert "keeps" in purge_personal_data(context)["skipped"]
    finally:
        context.settings.retention_days = 180


def test_retention_deletes_nothing_outside_the_recordings_folder(context: Context, tmp_path: Path) -> None:
    recordings = tmp_path / "spool"
    recordings.mkdir()
    inside = recordings / "in.wav"
    outside = tmp_path / "config.yaml"
    sneaky = recordings / ".." / "sneaky.wav"
    linked = recordings / "link.wav"
    for path in (inside, outside, tmp_path / "sneaky.wav"):
        path.write_bytes(b"RIFF")
    linked.symlink_to(outside)
    old = NOW - timedelta(days=300)
    with context.sessions.begin() as session:
        paths = [str(inside), str(outside), str(sneaky), str(linked), "relative.wav"]
        session.add(
            Call(linkedid="9.1", caller_number="13800001111", started_at=old, ended_at=old, recording_paths=paths)
        )
    report = purge(context.sessions, NOW, retention_days=180, recordings_dir=recordings)
    assert not inside.exists()
    assert outside.exists() and (tmp_path / "sneaky.wav").exists() and linked.is_symlink()
    assert report.files_deleted == 1 and report.files_refused == 4
