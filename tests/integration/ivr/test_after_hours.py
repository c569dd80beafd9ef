"""Closed hours over FastAGI: holidays and make-up working Saturdays from the Chinese calendar,
closures, and what a closed queue offers (overflow, call-back, voicemail → ticket + transcription)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from hotline.jobs.events import job_for
from ivr.asterisk_sim import Speak
from ivr.records import IVR_ACCOUNT
from storage.tables import Call, OutboxMessage, Ticket, User, VirtualHoldRequest
from tests.integration.ivr.conftest import CALLER, TZ, Ivr, call, played, uniqueid
from ticketing.domain.events import RecordingFinished

HOLIDAY = datetime(2026, 10, 1, 10, 0, tzinfo=TZ)  # 国庆节
MAKE_UP_SATURDAY = datetime(2026, 10, 10, 10, 0, tzinfo=TZ)  # 调休: a working Saturday
EVENING = datetime(2026, 11, 24, 20, 0, tzinfo=TZ)


def test_holiday_closes_5x8_queues_and_counts_the_call_as_closed(ivr: Ivr) -> None:
    # 人民调解 is closed on a holiday; its after-hours choice is voicemail. The caller leaves a message.
    [simulated] = ivr.run(call("1", "3", Speak(6.0)), at=HOLIDAY)
    variables = simulated.variables
    assert variables["HOTLINE_CLOSED"] == "1" and variables["HOTLINE_QUEUE"] == "mediation"
    assert variables["HOTLINE_ROUTE"] == "hangup"
    assert "closed-holiday" in played(simulated)
    # HOTLINE_CLOSED is set before the notice, so a hang-up during it is still counted as closed-hours.
    commands = simulated.commands
    assert commands.index("SET VARIABLE HOTLINE_CLOSED 1") < next(
        i for i, c in enumerate(commands) if "closed-holiday" in c
    )
    row = ivr.session(simulated)
    assert row.exit == "voicemail" and "closed" in row.flags


def test_make_up_working_saturday_is_open(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "2"), at=MAKE_UP_SATURDAY)
    assert simulated.variables["HOTLINE_QUEUE"] == "legal-aid" and "HOTLINE_CLOSED" not in simulated.variables


def test_the_7x24_line_stays_open_on_holidays(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "0"), at=HOLIDAY)
    assert simulated.variables["HOTLINE_ROUTE"] == "queue" and simulated.variables["HOTLINE_QUEUE"] == "zonghe"


def test_unknown_year_warns_and_serves(ivr: Ivr, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        [simulated] = ivr.run(call("1", "2"), at=datetime(2032, 3, 3, 10, 0, tzinfo=TZ))  # a Wednesday
    assert simulated.variables["HOTLINE_QUEUE"] == "legal-aid" and "HOTLINE_CLOSED" not in simulated.variables
    assert any("no public holiday list for 2032" in r.getMessage() for r in caplog.records)


def test_partial_day_closure_from_ivr_yaml(ivr: Ivr) -> None:
    closure = {"date": "2026-11-24", "hours": "09:00-11:00", "queues": ["complaint"], "reason": "系统升级"}
    config = ivr.config(closures=[closure])
    closed, other = ivr.run(call("1", "5", Speak(1.0)), call("1", "2"), config=config)
    assert closed.variables["HOTLINE_CLOSED"] == "1" and "closed-closure" in played(closed)
    assert other.variables["HOTLINE_ROUTE"] == "queue"


def test_after_hours_overflow_transfers(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("2"), at=EVENING)  # Tibetan line: overflow to the provincial line
    variables = simulated.variables
    assert variables["HOTLINE_ROUTE"] == "overflow" and variables["HOTLINE_OVERFLOW"] == "02886120000"
    assert variables["HOTLINE_CLOSED"] == "1" and variables["HOTLINE_QUEUE"] == "tibetan"
    assert ivr.session(simulated).exit == "overflow"


def test_after_hours_callback_is_registered_for_the_opening(ivr: Ivr) -> None:
    # 婚姻家庭 offers a call-back after hours; the caller accepts and confirms their caller ID.
    [simulated] = ivr.run(call("1", "1", "1", "1", "1"), at=EVENING)
    assert "callback-offer-closed" in played(simulated) and "callback-done" in played(simulated)
    assert simulated.variables["HOTLINE_CLOSED"] == "1"
    with ivr.context.sessions() as db:
        request = db.scalar(select(VirtualHoldRequest))
        assert request is not None and request.queue == "family" and request.number == CALLER
        assert request.arrived_at == EVENING and request.status == "waiting"
    assert ivr.session(simulated).exit == "callback"


def test_after_hours_callback_declined_leads_to_voicemail(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "1", "1", "2", Speak(4.0)), at=EVENING)
    assert ivr.session(simulated).exit == "voicemail"


def test_voicemail_makes_an_accepted_ticket_and_queues_its_transcription(ivr: Ivr) -> None:
    simulated = call("1", "2", Speak(12.0))
    with ivr.context.sessions.begin() as db:  # the bridge already wrote the Call row
        db.add(Call(linkedid=uniqueid(simulated), caller_number=CALLER))
    ivr.run(simulated, at=EVENING)
    row = ivr.session(simulated)
    expected_path = f"/var/spool/asterisk/hotline-voicemail/{uniqueid(simulated)}.wav"
    assert row.exit == "voicemail" and row.recording_path == expected_path and row.ticket_code
    assert f"RECORD FILE /var/spool/asterisk/hotline-voicemail/{uniqueid(simulated)} wav # 120000 0 BEEP s=5" in (
        simulated.commands
    )
    with ivr.context.sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.code == row.ticket_code))
        assert ticket is not None
        assert ticket.channel == "voicemail" and ticket.status == "accepted" and ticket.caller_number == CALLER
        assert ticket.service_line == "legal_aid" and "12 秒" in ticket.description
        assert [c.linkedid for c in ticket.calls] == [uniqueid(simulated)]
        creator = db.get(User, ticket.created_by_id)
        assert creator is not None and creator.username == IVR_ACCOUNT and not creator.is_active
        job = db.scalar(select(OutboxMessage).where(OutboxMessage.event == RecordingFinished.name))
        assert job is not None and job.args == [expected_path, uniqueid(simulated), ticket.code]
        spec = job_for(job.event)
        assert spec is not None and spec.queue == "asr" and job.dispatched_at is None
        call_row = db.scalar(select(Call).where(Call.linkedid == uniqueid(simulated)))
        assert call_row is not None and call_row.recording_paths == [expected_path]


def test_voicemail_with_a_hangup_at_the_end_still_makes_a_ticket(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "2", Speak(8.0, end="hangup")), at=EVENING)
    row = ivr.session(simulated)
    assert row.exit == "voicemail" and row.ticket_code is not None
    assert "voicemail-thanks" not in played(simulated)  # nobody left to thank


def test_too_short_a_message_makes_no_ticket(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "2", Speak(0.5)), at=EVENING)
    row = ivr.session(simulated)
    assert row.exit == "closed" and row.ticket_code is None and "voicemail-too-short" in row.flags
    with ivr.context.sessions() as db:
        assert db.scalar(select(Ticket)) is None
        assert db.scalar(select(OutboxMessage).where(OutboxMessage.event == RecordingFinished.name)) is None
