"""Virtual hold on a real Asterisk: nobody on duty, the caller takes the call-back offer and hangs up;
a lawyer comes on duty, the bridge rings the lawyer's phone, then the dialplan dials the citizen."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import VirtualHoldRequest
from tests.pbx.harness import HotlinePbx, wait_for
from tests.pbx.sipp import TO_OPERATOR, Caller, Key, Phone


def test_call_back_offer_then_the_call_back_when_a_lawyer_is_free(pbx: HotlinePbx) -> None:
    number = "13900007777"
    assert pbx.live_queue("zonghe")["members_on_duty"] == 0
    # no-lawyer (3.5 s), offer (8.3 s): 1 = call me back; "we will call 139…" read out, confirm: 1.
    caller = Caller(
        keys=[*TO_OPERATOR, Key("1", at_ms=5000), Key("1", at_ms=14_000)],
        number=number,
        wait_bye_ms=40_000,
    )
    pbx.call(caller).check(90)
    session = pbx.ivr_session(caller_number=number)
    assert session.exit == "callback", session.path
    assert pbx.context is not None

    def request() -> VirtualHoldRequest | None:
        with pbx.context.sessions() as db:  # type: ignore[union-attr]
            return db.scalar(select(VirtualHoldRequest).where(VirtualHoldRequest.caller_number == number))

    assert wait_for(request, 10, "the call-back request").status == "waiting"

    # A lawyer comes on duty: their phone rings first, then the citizen's (through the carrier).
    citizen = pbx.phone("carrier", Phone(answer_after_ms=1000, hangup_after_ms=3000))
    lawyer = pbx.phone("2001", Phone(answer_after_ms=500))
    pbx.asterisk.cli("queue add member PJSIP/2001 to zonghe")
    citizen.check(60)
    lawyer.check(30)
    done = wait_for(lambda: (r := request()) is not None and r.status == "done" and r, 30, "the request done")
    assert done.attempts == 1 and done.last_outcome == "answered"
    back = pbx.wait_call(lambda c: c.direction == "callback" and c.outcome != "in_progress")
    assert (back.outcome, back.agent_interface, back.caller_number) == ("answered", "PJSIP/2001", number)
