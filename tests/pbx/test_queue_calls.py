"""Queue calls on a real Asterisk, answered, abandoned and rung without an answer, recorded; the
hotline's call rows and `/api/kpi` against Asterisk's own `queue show` counters for the same calls."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.accounts import create_user
from hotline.app import create_app
from storage.tables import OutboxMessage
from tests.pbx.asterisk import RING_TIMEOUT_S
from tests.pbx.harness import HotlinePbx
from tests.pbx.sipp import TO_OPERATOR, WELCOME_KEY_MS, Caller, Key, Phone
from ticketing.domain.events import RecordingFinished
from ticketing.domain.roles import Role

#: After the topic key: "connecting" (4.9 s) and the wait announcement, then the queue.
IN_QUEUE_MS = 14_000


def topic_caller(topic_key: str, number: str, stay_ms: int) -> Caller:
    """法律咨询 (1) then a topic: 1 婚姻家庭 → family, 2 劳动争议 → labour, 3 房产 → property."""
    keys = [Key("1", at_ms=WELCOME_KEY_MS), Key("1", at_ms=1500), Key(topic_key, at_ms=1500)]
    return Caller(keys=keys, hangup_after_ms=IN_QUEUE_MS + stay_ms, number=number)


def queue_counters(text: str) -> dict[str, int]:
    """C (completed) and A (abandoned) from one queue's `queue show` line."""
    match = re.search(r"C:(\d+), A:(\d+)", text)
    assert match, text
    return {"completed": int(match.group(1)), "abandoned": int(match.group(2))}


def test_answered_abandoned_and_unanswered_calls_match_asterisk(pbx: HotlinePbx) -> None:
    asterisk = pbx.asterisk
    asterisk.cli("queue add member PJSIP/2001 to family")  # answers
    asterisk.cli("queue add member PJSIP/2002 to labour")  # rings, never answered (RING_TIMEOUT_S)
    asterisk.cli("queue add member PJSIP/2003 to property")  # rings, never answered
    answering = pbx.phone("2001", Phone(answer_after_ms=1000))
    pbx.phone("2002", Phone(answer_after_ms=None, calls=5))
    pbx.phone("2003", Phone(answer_after_ms=None, calls=5))
    runs = [
        pbx.call(topic_caller("1", "13900006001", stay_ms=6_000)),  # answered after 1 s, talks ~5 s
        # outlasts one ring (RING_TIMEOUT_S): ring-no-answer, then abandons
        pbx.call(topic_caller("2", "13900006002", stay_ms=RING_TIMEOUT_S * 1000 + 4_000)),
        pbx.call(topic_caller("3", "13900006003", stay_ms=4_000)),  # abandons while the phone rings
    ]
    for run in runs:
        run.check(90)
    answering.check(30)

    answered = pbx.call_row(caller_number="13900006001")
    unanswered = pbx.call_row(caller_number="13900006002")
    abandoned = pbx.call_row(caller_number="13900006003")
    assert (answered.outcome, answered.queue, answered.agent_interface) == ("answered", "family", "PJSIP/2001")
    assert answered.talk_seconds is not None and answered.talk_seconds > 2
    assert (unanswered.outcome, unanswered.queue) == ("ring_no_answer_abandoned", "labour")
    assert (abandoned.outcome, abandoned.queue) == ("abandoned", "property")

    # Asterisk counted the same.
    assert queue_counters(asterisk.cli("queue show family")) == {"completed": 1, "abandoned": 0}
    assert queue_counters(asterisk.cli("queue show labour")) == {"completed": 0, "abandoned": 1}
    assert queue_counters(asterisk.cli("queue show property")) == {"completed": 0, "abandoned": 1}

    # The answered call was recorded (MixMonitor) and its recording queued for transcription.
    assert answered.recording_paths
    recording = asterisk.monitor_dir / Path(answered.recording_paths[0]).name
    assert recording.exists() and recording.stat().st_size > 0
    assert pbx.context is not None
    with pbx.context.sessions() as db:
        finished = [m for m in db.scalars(select(OutboxMessage)) if m.event == RecordingFinished.name]
    # RecordingFinished starts the transcription job (hotline.jobs.events); one per call that was queued.
    assert len(finished) == 3
    assert any(answered.linkedid in json.dumps(message.args) for message in finished)

    # /api/kpi, as a supervisor sees it.
    with pbx.context.sessions.begin() as db:
        create_user(db, "boss", "correct-horse-12348", Role.SUPERVISOR)
    with TestClient(create_app(pbx.context)) as client:
        token = client.post("/api/auth/login", json={"username": "boss", "password": "correct-horse-12348"}).json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        today = datetime.now(ZoneInfo(pbx.context.settings.timezone)).date().isoformat()
        rows = {}
        for queue in ("family", "labour", "property"):
            response = client.get("/api/kpi", params={"start": today, "end": today, "queue": queue}, headers=headers)
            assert response.status_code == 200, response.text
            [rows[queue]] = response.json()["rows"]
    assert (rows["family"]["offered"], rows["family"]["answered"], rows["family"]["abandoned"]) == (1, 1, 0)
    assert (rows["labour"]["offered"], rows["labour"]["answered"], rows["labour"]["abandoned"]) == (1, 0, 1)
    assert (rows["property"]["offered"], rows["property"]["answered"], rows["property"]["abandoned"]) == (1, 0, 1)


def test_a_call_transferred_blind_to_12345_from_the_console(pbx: HotlinePbx) -> None:
    """The lawyer sends the caller on to 12345 from the console (POST /api/console/calls/…/transfer:
    the bridge redirects the caller's channel to the hotline-transfer context, which dials the
    carrier). The call stays the hotline's answered call, its talk time ends at the transfer, as
    Asterisk's queue_log has it."""
    assert pbx.context is not None
    context, asterisk = pbx.context, pbx.asterisk
    number = "13900008888"
    asterisk.cli("queue add member PJSIP/2001 to zonghe")
    lawyer = pbx.phone("2001", Phone(answer_after_ms=300, hangup_after_ms=None))
    line_12345 = pbx.phone("carrier", Phone(answer_after_ms=500, hangup_after_ms=3000))
    caller = pbx.call(Caller(keys=TO_OPERATOR, number=number, wait_bye_ms=60_000))
    live = pbx.live_call(number, "talking")
    time.sleep(1)  # the lawyer and the caller talk a moment

    with context.sessions.begin() as db:
        create_user(db, "lawyer-2001", "correct-horse-12348", Role.LAWYER, interface="PJSIP/2001")
    with TestClient(create_app(context)) as client:
        token = client.post(
            "/api/auth/login", json={"username": "lawyer-2001", "password": "correct-horse-12348"}
        ).json()["token"]
        response = client.post(
            f"/api/console/calls/{live['linkedid']}/transfer",
            json={"exten": "12345"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    line_12345.check(30)
    caller.check(60)
    lawyer.check(30)

    # Asterisk: app_queue logged a blind transfer to 12345 in hotline-transfer, the call's talk
    # time ending there (queue_log: BLINDTRANSFER|exten|context|holdtime|calltime|position).
    [transfer] = [line for line in asterisk.queue_log() if line[1] == live["linkedid"] and line[4] == "BLINDTRANSFER"]
    assert transfer[5:7] == ["12345", "hotline-transfer"]
    assert "PJSIP/12345@carrier" in asterisk.log_since_reset()

    # The hotline: the caller's call answered by the lawyer, talk time up to the transfer, as Asterisk
    # counted it (queue_log has whole seconds), not the time the caller then spent on 12345 (3 s).
    call = pbx.call_row(caller_number=number)
    assert (call.outcome, call.queue, call.agent_interface) == ("answered", "zonghe", "PJSIP/2001")
    assert call.direction == "inbound" and call.end_seen
    assert call.talk_seconds is not None and abs(call.talk_seconds - int(transfer[8])) < 1
    assert call.answered_at is not None and call.ended_at is not None
    assert (call.ended_at - call.answered_at).total_seconds() > call.talk_seconds + 2.5
    assert queue_counters(asterisk.cli("queue show zonghe")) == {"completed": 1, "abandoned": 0}
