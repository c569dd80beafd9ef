"""Recording playback: who may hear a call (the lawyer it was put through to, supervisors, admins),
the audio a browser can play (μ-law and GSM decoded to PCM WAV), Range, the listen audited once, and
the file's path shown to nobody. The ticket view also lists every call-back attempt."""

from __future__ import annotations

import dataclasses
import io
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hotline.app import create_app
from hotline.bootstrap import Context
from storage.tables import Call, CallbackAttempt, FollowUpTask, PersonalDataView, Ticket, User
from tests.integration.conftest import Staff

NUMBER = "13800005555"
RATE = 8000


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    folder = tmp_path / "monitor"
    folder.mkdir()
    return folder


@pytest.fixture
def player(context: Context, recordings: Path) -> Iterator[TestClient]:
    settings = context.settings.model_copy(update={"recordings_dir": recordings})
    with TestClient(create_app(dataclasses.replace(context, settings=settings))) as client:
        yield client


def _tone(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.4 * np.sin(2 * np.pi * 440 * t)).astype("float32")


def _call(context: Context, paths: list[str], lawyer: str = "lawyer1") -> tuple[int, str]:
    """A call put through to `lawyer`, with its recordings at `paths`."""
    with context.sessions.begin() as session:
        user = session.scalars(select(User).where(User.username == lawyer)).one()
        started = datetime.now(UTC) - timedelta(minutes=10)
        call = Call(linkedid=f"1796000000.{secrets.randbelow(10**6)}", caller_number=NUMBER, queue="labour",
                    outcome="answered", lawyer_id=user.id, started_at=started, answered_at=started,
                    talk_seconds=60.0, recording_paths=paths)  # fmt: skip
        session.add(call)
        session.flush()
        return call.id, call.linkedid


def _ticket(client: TestClient, staff: dict[str, Staff], linkedids: list[str], by: str = "lawyer1") -> str:
    body = {"description": "工资被拖欠", "caller_number": NUMBER, "call_linkedids": linkedids}
    made = client.post("/api/tickets", json=body, headers=staff[by].headers)
    assert made.status_code == 201, made.text
    return str(made.json()["code"])


def _ticket_with_call(
    context: Context, client: TestClient, staff: dict[str, Staff], paths: list[str]
) -> tuple[str, int]:
    call_id, linkedid = _call(context, paths)
    return _ticket(client, staff, [linkedid]), call_id


def test_a_mulaw_recording_plays_as_pcm_wav_for_those_who_may_hear_it(
    context: Context, player: TestClient, staff: dict[str, Staff], recordings: Path
) -> None:
    path = recordings / "labour-1.wav"
    soundfile.write(path, _tone(), RATE, format="WAV", subtype="ULAW")  # as Asterisk's MixMonitor writes it
    code, call_id = _ticket_with_call(context, player, staff, [str(path)])

    view = player.get(f"/api/tickets/{code}", headers=staff["supervisor"].headers)
    assert view.status_code == 200
    assert str(recordings) not in view.text and "labour-1" not in view.text  # never the file's path
    [recording] = view.json()["recordings"]
    assert recording["url"] == f"/api/calls/{call_id}/recordings/0" and view.json()["recordings_withheld"] == 0

    for who in ("supervisor", "lawyer1", "admin"):
        audio = player.get(recording["url"], headers=staff[who].headers)
        assert audio.status_code == 200, (who, audio.text)
        assert audio.headers["content-type"] == "audio/wav" and audio.headers["accept-ranges"] == "bytes"
        info = soundfile.info(io.BytesIO(audio.content))
        assert (info.format, info.subtype, info.samplerate, info.frames) == ("WAV", "PCM_16", RATE, RATE)
        assert str(recordings) not in str(dict(audio.headers))

    part = player.get(recording["url"], headers={**staff["supervisor"].headers, "Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100 and part.content[:4] == b"RIFF"
    assert part.headers["content-range"].startswith("bytes 0-99/")
    tail = player.get(recording["url"], headers={**staff["supervisor"].headers, "Range": "bytes=-10"})
    assert tail.status_code == 206 and len(tail.content) == 10
    beyond = player.get(recording["url"], headers={**staff["supervisor"].headers, "Range": "bytes=999999-"})
    assert beyond.status_code == 416 and beyond.json()["error"]["id"] == "range_not_satisfiable"

    with context.sessions() as session:
        views = session.scalars(select(PersonalDataView).where(PersonalDataView.kind == "recording")).all()
        # One row per listener however many requests the player made (seeking is not another listen).
        assert sorted(v.user_id for v in views) == sorted(staff[w].user_id for w in ("supervisor", "lawyer1", "admin"))


def test_a_lawyer_not_on_the_call_and_station_staff_get_no_player_and_403(
    context: Context, player: TestClient, staff: dict[str, Staff], recordings: Path
) -> None:
    path = recordings / "gsm-1.wav"
    soundfile.write(path, _tone(), RATE, format="WAV", subtype="GSM610")
    own = recordings / "second.wav"
    soundfile.write(own, _tone(), RATE, format="WAV", subtype="PCM_16")
    # The citizen called twice: lawyer1 took the first call, lawyer2 the second and wrote the ticket.
    call_id, first = _call(context, [str(path)], "lawyer1")
    own_id, second = _call(context, [str(own)], "lawyer2")
    code = _ticket(player, staff, [first, second], by="lawyer2")
    view = player.get(f"/api/tickets/{code}", headers=staff["lawyer2"].headers)
    assert view.status_code == 200
    assert [r["call_id"] for r in view.json()["recordings"]] == [own_id] and view.json()["recordings_withheld"] == 1
    supervisor = player.get(f"/api/tickets/{code}", headers=staff["supervisor"].headers).json()
    assert {r["call_id"] for r in supervisor["recordings"]} == {call_id, own_id}
    for who in ("lawyer2", "county"):
        refused = player.get(f"/api/calls/{call_id}/recordings/0", headers=staff[who].headers)
        assert refused.status_code == 403 and refused.json()["error"]["id"] == "forbidden", who
        assert str(recordings) not in refused.text
    gsm = player.get(f"/api/calls/{call_id}/recordings/0", headers=staff["lawyer1"].headers)
    assert gsm.status_code == 200 and soundfile.info(io.BytesIO(gsm.content)).subtype == "PCM_16"
    with context.sessions() as session:
        listeners = session.scalars(select(PersonalDataView.user_id).where(PersonalDataView.kind == "recording")).all()
        assert staff["lawyer2"].user_id not in listeners and staff["county"].user_id not in listeners


def test_raw_gsm_missing_outside_and_broken_files_are_clear_errors(
    context: Context, player: TestClient, staff: dict[str, Staff], recordings: Path, tmp_path: Path
) -> None:
    raw = recordings / "old.gsm"
    soundfile.write(raw, _tone(0.5), RATE, format="RAW", subtype="GSM610")
    outside = tmp_path / "elsewhere.wav"
    soundfile.write(outside, _tone(0.5), RATE, format="WAV", subtype="PCM_16")
    broken = recordings / "broken.wav"
    broken.write_bytes(b"RIFF not really audio")
    paths = [str(raw), str(recordings / "gone.wav"), str(outside), str(recordings / ".." / outside.name), str(broken)]
    _code, call_id = _ticket_with_call(context, player, staff, paths)
    headers = staff["supervisor"].headers
    played = player.get(f"/api/calls/{call_id}/recordings/0", headers=headers)
    assert played.status_code == 200 and soundfile.info(io.BytesIO(played.content)).frames == RATE // 2
    for index in (1, 2, 3):
        missing = player.get(f"/api/calls/{call_id}/recordings/{index}", headers=headers)
        assert missing.status_code == 404 and "录音文件已不在" in missing.json()["error"]["message"], index
        assert str(tmp_path) not in missing.text
    unreadable = player.get(f"/api/calls/{call_id}/recordings/4", headers=headers)
    assert unreadable.status_code == 422 and unreadable.json()["error"]["id"] == "unreadable_media"
    assert player.get(f"/api/calls/{call_id}/recordings/5", headers=headers).status_code == 404
    assert player.get("/api/calls/999999/recordings/0", headers=headers).status_code == 404
    assert player.get(f"/api/calls/{call_id}/recordings/0").status_code == 401


def test_the_ticket_view_lists_every_call_back_attempt(
    context: Context, player: TestClient, staff: dict[str, Staff]
) -> None:
    code, _call_id = _ticket_with_call(context, player, staff, [])
    with context.sessions.begin() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.code == code)).one()
        lawyer1 = session.get(User, staff["lawyer1"].user_id)
        lawyer2 = session.get(User, staff["lawyer2"].user_id)
        task = FollowUpTask(ticket=ticket, due_date=date(2026, 12, 9), assigned_lawyer=lawyer1)
        first = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
        task.attempts = [
            CallbackAttempt(at=first, outcome="no_answer", lawyer_id=lawyer1.id, note="无人接听"),
            CallbackAttempt(at=first + timedelta(days=1), outcome="busy", lawyer_id=lawyer2.id),
        ]
        session.add(task)
        session.execute(update(User).where(User.id == lawyer2.id).values(display_name="李律师"))
    view = player.get(f"/api/tickets/{code}", headers=staff["lawyer1"].headers)
    assert view.status_code == 200
    player.get(f"/api/tickets/{code}", headers=staff["lawyer1"].headers)
    with context.sessions() as session:  # the full number on screen is a look at personal data, audited once
        looks = session.scalars(select(PersonalDataView).where(PersonalDataView.subject == code)).all()
        assert [(v.kind, v.user_id, v.fields) for v in looks] == [
            ("ticket", staff["lawyer1"].user_id, ["caller_number"])
        ]
    [callback] = view.json()["callbacks"]
    assert callback["due_date"] == "2026-12-09" and callback["status_label"] == "待回访"
    assert callback["assigned_lawyer_name"] == lawyer1_name(context, staff)
    assert [(a["outcome_label"], a["lawyer_name"], a["note"]) for a in callback["attempts"]] == [
        ("无人接听", lawyer1_name(context, staff), "无人接听"),
        ("占线", "李律师", None),
    ]
    assert view.json()["callback_due"] == "2026-12-09"


def lawyer1_name(context: Context, staff: dict[str, Staff]) -> str:
    with context.sessions() as session:
        user = session.get(User, staff["lawyer1"].user_id)
        assert user is not None
        return user.display_name


def test_a_replaced_or_deleted_recording_is_not_served_from_the_decoded_cache(
    context: Context, player: TestClient, staff: dict[str, Staff], recordings: Path
) -> None:
    path = recordings / "replaced.wav"
    soundfile.write(path, _tone(1.0), RATE, format="WAV", subtype="ULAW")
    _code, call_id = _ticket_with_call(context, player, staff, [str(path)])
    url, headers = f"/api/calls/{call_id}/recordings/0", staff["supervisor"].headers
    assert soundfile.info(io.BytesIO(player.get(url, headers=headers).content)).frames == RATE
    soundfile.write(path, _tone(0.25), RATE, format="WAV", subtype="ULAW")  # Asterisk wrote it again
    assert soundfile.info(io.BytesIO(player.get(url, headers=headers).content)).frames == RATE // 4
    path.unlink()  # retention deleted it: nothing is played from memory
    assert player.get(url, headers=headers).status_code == 404
