"""Entering a queue: priority for green-channel and repeat callers, the lawyer who has the caller's
open ticket, position and wait from the live state in Redis, and the call-back offer (virtual hold)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from storage.tables import Caller, VirtualHoldRequest
from tests.integration.ivr.conftest import CALLER, OPEN, Ivr, call, played
from ticketing.domain.roles import Role
from ticketing.tickets import NewTicket, create_ticket


def test_green_channel_caller_record_gets_priority(ivr: Ivr) -> None:
    with ivr.context.sessions.begin() as db:
        db.add(Caller(number=CALLER, groups=["elderly"]))
    [simulated] = ivr.run(call("1", "3"))
    variables = simulated.variables
    assert variables["HOTLINE_GREEN"] == "elderly" and variables["HOTLINE_PRIORITY"] == "10"
    assert "priority" in played(simulated) and "green:elderly" in ivr.session(simulated).flags


def test_repeat_caller_is_offered_to_the_lawyer_with_the_open_ticket(ivr: Ivr) -> None:
    with ivr.context.sessions.begin() as db:
        lawyer = create_user(db, "lawyer1", "correct-horse-12348", Role.LAWYER, interface="PJSIP/1001")
        ticket = create_ticket(
            db, actor_for(lawyer), NewTicket("phone", "欠薪", caller_number=CALLER), ivr.context.policy, OPEN
        )
        code = ticket.code
    [simulated] = ivr.run(call("1", "1", "2"))
    variables = simulated.variables
    assert variables["HOTLINE_PREFERRED"] == "PJSIP/1001" and variables["HOTLINE_TICKET"] == code
    assert variables["HOTLINE_PRIORITY"] == "5" and "repeat" in ivr.session(simulated).flags


def test_a_settled_ticket_does_not_make_a_repeat_caller(ivr: Ivr) -> None:
    with ivr.context.sessions.begin() as db:
        lawyer = create_user(db, "lawyer1", "correct-horse-12348", Role.LAWYER, interface="PJSIP/1001")
        ticket = create_ticket(
            db, actor_for(lawyer), NewTicket("phone", "咨询", caller_number=CALLER), ivr.context.policy, OPEN
        )
        ticket.status = "archived"
    [simulated] = ivr.run(call("1", "2"))
    assert "HOTLINE_PREFERRED" not in simulated.variables and simulated.variables["HOTLINE_PRIORITY"] == "0"


def test_position_and_wait_are_announced_from_live_state(ivr: Ivr) -> None:
    # 3 waiting, nobody free, 2 lawyers at 60 s a call: 4th in line, about 2 minutes.
    ivr.live("legal-aid", waiting=3, members_available=0, talking=2, avg_handle_s=60.0)
    [simulated] = ivr.run(call("1", "2"))
    heard = played(simulated)
    start = heard.index("position-before")
    assert heard[start : start + 7] == [
        "position-before",
        "digit-3",
        "position-after",
        "wait-before",
        "number-2",
        "wait-after",
        "connecting",
    ]
    assert "callback-offer" not in heard  # 2 minutes is under the 3-minute offer threshold


def test_stale_or_missing_live_state_announces_nothing(ivr: Ivr) -> None:
    ivr.live("legal-aid", waiting=30, members_available=0, updated_at=(OPEN - timedelta(minutes=5)).timestamp())
    ivr.context.redis.client.hset("hotline:live:queues", "mediation", "{not json")
    stale, broken, missing = ivr.run(call("1", "2"), call("1", "3"), call("1", "4"))
    for simulated in (stale, broken, missing):
        heard = played(simulated)
        assert "position-before" not in heard and "no-lawyer" not in heard and "callback-offer" not in heard
        assert simulated.variables["HOTLINE_ROUTE"] == "queue"


def test_long_wait_offers_a_call_back_which_the_caller_may_decline(ivr: Ivr) -> None:
    ivr.live("legal-aid", waiting=9, members_available=0, talking=1, members_on_duty=1, avg_handle_s=300.0)
    [simulated] = ivr.run(call("1", "2", "2"))
    assert "callback-offer" in played(simulated) and simulated.variables["HOTLINE_ROUTE"] == "queue"
    assert "wait-long" not in played(simulated)  # 50 minutes is still said in minutes


def test_accepted_call_back_keeps_the_callers_place(ivr: Ivr) -> None:
    ivr.live("legal-aid", waiting=9, members_available=0, talking=1, members_on_duty=1, avg_handle_s=300.0)
    [simulated] = ivr.run(call("1", "2", "1", "1"))
    heard = played(simulated)
    assert heard[heard.index("callback-confirm-before") + 1 : heard.index("callback-confirm-after")] == [
        f"digit-{d}" for d in CALLER
    ]
    assert simulated.variables["HOTLINE_ROUTE"] == "hangup" and "callback-done" in heard
    assert simulated.variables["HOTLINE_QUEUE"] == "legal-aid"
    row = ivr.session(simulated)
    assert row.exit == "callback"
    with ivr.context.sessions() as db:
        request = db.scalar(select(VirtualHoldRequest))
        assert request is not None
        assert (request.number, request.queue, request.status) == (CALLER, "legal-aid", "waiting")
        assert request.arrived_at == OPEN and request.linkedid == row.uniqueid and request.language == "zh"


def test_no_lawyer_on_duty_offers_a_call_back(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    [simulated] = ivr.run(call("1", "3", "1", "1"))
    assert "no-lawyer" in played(simulated) and ivr.session(simulated).exit == "callback"


def test_keyed_in_number_is_validated_and_read_back(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    # Caller ID 5550100 has no area code: the caller must key a number in. 12345 is refused.
    [simulated] = ivr.run(call("1", "3", "1", "12345", "02883331234", "1", callerid="5550100"))
    heard = played(simulated)
    assert heard.count("callback-enter") == 2 and "callback-invalid" in heard
    with ivr.context.sessions() as db:
        request = db.scalar(select(VirtualHoldRequest))
        assert request is not None and request.number == "02883331234" and request.caller_number == "5550100"
    path = ivr.session(simulated).path
    assert {"node": "mediation:callback-number", "key": "digits:11"} in [
        {"node": s["node"], "key": s["key"]} for s in path
    ]


def test_caller_may_replace_their_caller_id_with_another_number(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    ivr.run(call("1", "3", "1", "2", "13912345678", "1"))
    with ivr.context.sessions() as db:
        request = db.scalar(select(VirtualHoldRequest))
        assert request is not None and request.number == "13912345678"


def test_no_valid_number_after_the_tries_means_the_caller_stays_in_line(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    [simulated] = ivr.run(call("1", "3", "1", "123", "", callerid="5550100"))
    assert simulated.variables["HOTLINE_ROUTE"] == "queue"
    assert "callback-no-number" in ivr.session(simulated).flags
    with ivr.context.sessions() as db:
        assert db.scalar(select(VirtualHoldRequest)) is None


def test_one_open_call_back_per_caller_and_matter(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    ivr.live("legal-aid", members_on_duty=0, members_available=0, talking=0)
    first, again, other_matter = ivr.run(
        call("1", "3", "1", "1"),
        call("1", "3", "1", "1"),
        call("1", "2", "1", "1"),
        between=lambda: None,  # one after the other, as a caller would call again
    )
    assert "callback-done" in played(first) and "callback-duplicate" in played(again)
    assert "callback-done" in played(other_matter)
    assert "callback-duplicate" in ivr.session(again).flags
    with ivr.context.sessions() as db:
        assert sorted(r.queue for r in db.scalars(select(VirtualHoldRequest))) == ["legal-aid", "mediation"]


def test_concurrent_duplicate_requests_make_one_row(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    calls = ivr.run(*(call("1", "3", "1", "1") for _ in range(4)))
    with ivr.context.sessions() as db:
        assert len(db.scalars(select(VirtualHoldRequest)).all()) == 1
    assert sum("callback-done" in played(c) for c in calls) == 1
