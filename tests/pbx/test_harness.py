"""The harness itself: Asterisk runs the project's sample configuration, a SIPp caller reaches the IVR
and a lawyer's SIP phone through the queue, and the bridge records the call."""

from __future__ import annotations

from tests.pbx.asterisk import Asterisk
from tests.pbx.harness import HotlinePbx
from tests.pbx.sipp import TO_OPERATOR, Caller, Phone


def test_asterisk_loads_the_sample_configuration(asterisk: Asterisk) -> None:
    queues = asterisk.cli("queue show")
    for name in ("zonghe", "consult", "family", "labour", "legal-aid", "tibetan"):
        assert f"{name} has 0 calls" in queues
    endpoints = asterisk.cli("pjsip show endpoints")
    assert "1001/1001" in endpoints and "carrier" in endpoints
    dialplan = asterisk.cli("dialplan show 12348@hotline-in")
    assert "AGI(${HOTLINE_AGI}/ivr)" in dialplan
    assert f"agi://127.0.0.1:{asterisk.ports.agi}" in asterisk.cli("dialplan show globals")


def test_a_caller_reaches_a_lawyer_through_the_ivr_and_the_call_is_recorded(pbx: HotlinePbx) -> None:
    pbx.asterisk.cli("queue add member PJSIP/2001 to zonghe")
    phone = pbx.phone("2001", Phone(answer_after_ms=500, hangup_after_ms=None))
    caller = pbx.call(Caller(keys=TO_OPERATOR, hangup_after_ms=10000, number="13900000001"))
    caller.check(90)
    phone.check(30)
    session = pbx.ivr_session(caller_number="13900000001")
    assert session.exit == "queue:zonghe"
    call = pbx.call_row(caller_number="13900000001")
    assert call.outcome == "answered"
    assert call.queue == "zonghe"
    assert call.agent_interface == "PJSIP/2001"
