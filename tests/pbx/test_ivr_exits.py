"""Where calls leave the IVR, on a real Asterisk: closed hours with a message that becomes a ticket,
the repeat caller and the green channel, the after-hours overflow, a hang-up while connecting.

Timings follow the espeak-ng placeholder prompts: closed-hours 3.1 s, voicemail-intro 11.4 s,
overflow 6.8 s, no-lawyer 3.5 s, callback-offer 8.3 s, connecting 4.9 s."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.tables import Ticket
from tests.pbx.harness import HotlinePbx
from tests.pbx.sipp import TO_OPERATOR, WELCOME_KEY_MS, Caller, Key, Phone, Speech
from tests.pbx.test_ivr import AFTER_EXIT_MS, path_of, ringing_member

NUMBER = "13900001111"


def test_closed_hours_message_becomes_a_ticket_and_the_caller_is_then_a_repeat_caller_without_the_green_prompt(
    pbx: HotlinePbx,
) -> None:
    """Voicemail → ticket; then defect 5: the repeat-caller bonus raised the priority, and any priority
    above 0 played the green-channel announcement ("您属于绿色通道服务对象") to a caller who is not one."""
    pbx.restart(closed_queues=("mediation",))
    # A green-channel caller (农民工, key 8 then 1) at the same time: they do hear the announcement.
    ringing_member(pbx, "zonghe", "labour")
    mark = pbx.asterisk.log_mark()
    green = "13900001112"
    green_call = pbx.call(
        Caller(
            keys=[Key("1", at_ms=WELCOME_KEY_MS), Key("8", at_ms=1500), Key("1", at_ms=1500)],
            hangup_after_ms=20_000,  # the green-channel announcement, then "connecting"
            number=green,
        )
    )
    message = Caller(
        keys=[Key("1", at_ms=WELCOME_KEY_MS), Key("3", at_ms=1500), Speech(at_ms=16_000), Key("#", at_ms=5000)],
        number=NUMBER,
        wait_bye_ms=30_000,
    )
    pbx.call(message).check(90)
    green_call.check(60)
    assert pbx.ivr_session(caller_number=green).exit == "queue:labour"
    assert "/zh/priority" in pbx.asterisk.log_since(mark)  # the voicemail caller has no priority

    session = pbx.ivr_session(caller_number=NUMBER)
    assert session.exit == "voicemail" and "closed" in session.flags
    assert session.ticket_code and session.recording_path
    assert Path(session.recording_path).stat().st_size > 8000  # seconds of 8 kHz audio
    assert pbx.context is not None
    with pbx.context.sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.code == session.ticket_code))
        assert ticket is not None
    closed = pbx.call_row(caller_number=NUMBER)
    assert closed.outcome == "closed_hours" and closed.queue == "mediation"

    # The same caller again, now with an open ticket: priority raised, no green-channel prompt.
    mark = pbx.asterisk.log_mark()
    pbx.call(Caller(keys=TO_OPERATOR, hangup_after_ms=AFTER_EXIT_MS, number=NUMBER))
    repeat = pbx.wait_session(lambda s: s.caller_number == NUMBER and s.exit == "queue:zonghe")
    assert "repeat" in repeat.flags and repeat.priority == 5
    assert "/zh/connecting" in pbx.asterisk.log_since(mark)
    assert "/zh/priority" not in pbx.asterisk.log_since(mark)


def test_after_hours_overflow_is_a_closed_hours_call_not_an_answered_one(pbx: HotlinePbx) -> None:
    """Defect 6: a closed-hours call transferred to the overflow number was recorded `answered` (with
    no queue and no lawyer) as soon as the overflow line picked up, and left the closed-hours count."""
    pbx.restart(closed_queues=("tibetan",))
    overflow_line = pbx.phone("carrier", Phone(answer_after_ms=500, hangup_after_ms=3000))
    number = "13900002222"
    pbx.call(Caller(keys=[Key("2", at_ms=WELCOME_KEY_MS)], number=number, wait_bye_ms=40_000)).check(60)
    overflow_line.check(30)
    session = pbx.ivr_session(caller_number=number)
    assert session.exit == "overflow" and "closed" in session.flags
    call = pbx.call_row(caller_number=number)
    assert call.outcome == "closed_hours"
    assert call.queue == "tibetan"
    assert call.answered_at is None and call.agent_interface is None
    assert "PJSIP/02886120000@carrier" in pbx.asterisk.log_since_reset()


def test_a_caller_hanging_up_while_connecting_is_recorded_at_connecting(pbx: HotlinePbx) -> None:
    """Defect 7: after declining the call-back offer, a hang-up during "connecting" was recorded
    against the call-back offer."""
    number = "13900003333"
    # Nobody on duty in zonghe: "no lawyer" and the call-back offer; 2 = keep waiting.
    assert pbx.live_queue("zonghe")["members_on_duty"] == 0
    caller = Caller(keys=[*TO_OPERATOR, Key("2", at_ms=5000)], hangup_after_ms=2000, number=number)
    pbx.call(caller).check(60)
    session = pbx.ivr_session(caller_number=number)
    steps = path_of(session)
    assert ("operator:callback-offer", "2") in steps
    assert steps[-1] == ("operator:connecting", "hangup")
    assert "caller-hung-up" in session.flags


def test_answered_call_gets_the_survey_score(pbx: HotlinePbx) -> None:
    """The lawyer hangs up; the caller stays for the survey (一事一评) and presses 5."""
    pbx.asterisk.cli("queue add member PJSIP/2001 to zonghe")
    lawyer = pbx.phone("2001", Phone(answer_after_ms=500, hangup_after_ms=3000))
    number = "13900004444"
    # zonghe has a lawyer: connecting (4.9 s) + wait announcement, ring 0.5 s, talk 3 s, then the survey.
    caller = Caller(keys=[*TO_OPERATOR, Key("5", at_ms=20_000)], number=number)
    pbx.call(caller).check(120)
    lawyer.check(30)
    call = pbx.call_row(caller_number=number)
    assert call.outcome == "answered" and call.agent_interface == "PJSIP/2001"
    assert pbx.wait_call(lambda c: c.caller_number == number and c.survey_score == 5)
