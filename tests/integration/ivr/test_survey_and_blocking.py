"""The post-call survey (一事一评) and callers turned away (block list, repeat-nuisance rule)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from ivr.asterisk_sim import SimulatedCall
from ivr.blocking import CALLS_KEY, number_hash
from storage.tables import Call, Caller, IvrSession, Ticket
from tests.integration.ivr.conftest import CALLER, OPEN, Ivr, call, played, uniqueid
from ticketing.domain.roles import Role
from ticketing.tickets import NewTicket, create_ticket


def survey(*actions: str, linkedid: str) -> SimulatedCall:
    return call(*actions, script="survey", args=(linkedid,), uniqueid=linkedid)


def test_survey_score_lands_on_session_call_and_ticket(ivr: Ivr) -> None:
    menu = call("1", "2")
    linkedid = uniqueid(menu)
    ivr.run(menu)
    with ivr.context.sessions.begin() as db:
        db.add(Call(linkedid=linkedid, caller_number=CALLER))
        db.flush()
        lawyer = create_user(db, "lawyer1", "correct-horse-12348", Role.LAWYER)
        create_ticket(
            db,
            actor_for(lawyer),
            NewTicket("phone", "工伤赔偿", caller_number=CALLER, call_linkedids=[linkedid]),
            ivr.context.policy,
            OPEN,
        )
    [rating] = ivr.run(survey("4", linkedid=linkedid))
    assert played(rating) == ["survey-ask", "survey-thanks"]
    assert rating.commands[0] == "GET VARIABLE HOTLINE_LANG"
    with ivr.context.sessions() as db:
        assert db.scalar(select(IvrSession.survey_score).where(IvrSession.uniqueid == linkedid)) == 4
        assert db.scalar(select(Call.survey_score).where(Call.linkedid == linkedid)) == 4
        ticket = db.scalar(select(Ticket))
        assert ticket is not None and ticket.satisfaction == "4"


def test_survey_before_the_call_row_exists_is_kept_for_the_bridge(ivr: Ivr) -> None:
    ivr.run(survey("5", linkedid="1795449500.1"))
    with ivr.context.sessions() as db:
        row = db.scalar(select(IvrSession).where(IvrSession.uniqueid == "1795449500.1"))
        assert row is not None and row.survey_score == 5 and row.exit == "survey"


def test_survey_wrong_keys_then_silence_store_nothing(ivr: Ivr) -> None:
    [rating] = ivr.run(survey("7", "", linkedid="1795449500.2"))
    assert played(rating) == ["survey-ask", "survey-invalid", "survey-ask"]
    with ivr.context.sessions() as db:
        assert db.scalar(select(IvrSession)) is None


def test_survey_hangup_stores_nothing(ivr: Ivr) -> None:
    ivr.run(survey("hangup", linkedid="1795449500.3"))
    with ivr.context.sessions() as db:
        assert db.scalar(select(IvrSession)) is None


def test_blocked_number_hears_the_notice_and_is_counted_apart(ivr: Ivr) -> None:
    config = ivr.config(blocking={"numbers": [CALLER], "prefixes": ["170"], "nuisance": None})
    listed, prefixed, normal = ivr.run(
        call("1", "2"), call("1", "2", callerid="17012345678"), call("1", "2", callerid="13900001111"), config=config
    )
    for simulated in (listed, prefixed):
        assert simulated.variables["HOTLINE_BLOCKED"] == "1" and simulated.variables["HOTLINE_ROUTE"] == "hangup"
        assert played(simulated) == ["blocked"]
        row = ivr.session(simulated)
        assert row.exit == "blocked" and "blocked" in row.flags
    assert normal.variables["HOTLINE_ROUTE"] == "queue"


def test_repeat_nuisance_rule_blocks_after_the_limit_but_spares_green_callers(ivr: Ivr) -> None:
    config = ivr.config(blocking={"nuisance": {"max_calls": 2, "window_minutes": 10, "block_minutes": 60}})
    with ivr.context.sessions.begin() as db:
        db.add(Caller(number="13900002222", groups=["disabled"]))
    calls = [call("1", "2") for _ in range(4)]
    green = [call("1", "2", callerid="13900002222") for _ in range(3)]
    ivr.run(*calls, *green, config=config, between=lambda: None)
    assert [c.variables.get("HOTLINE_BLOCKED") for c in calls] == [None, None, "1", "1"]
    assert "nuisance" in ivr.session(calls[2]).flags
    assert all(c.variables["HOTLINE_ROUTE"] == "queue" for c in green)
    # Redis holds a hash of the number, never the number itself.
    keys = [k.decode() for k in ivr.context.redis.client.keys("hotline:ivr:*")]
    assert CALLS_KEY.format(number_hash(CALLER)) in keys and not any(CALLER in k for k in keys)
