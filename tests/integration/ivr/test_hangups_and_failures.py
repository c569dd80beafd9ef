"""A caller hanging up at any step ends the session cleanly and is recorded where it happened; broken
connections, unknown scripts and failing sessions never disturb other callers."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from ivr import destinations
from ivr.app import start_ivr_server
from ivr.asterisk_sim import NEEDS_CHANNEL, SimulatedCall, Speak
from ivr.virtual_hold import claim_next_callback
from storage.tables import IvrSession
from tests.integration.ivr.conftest import OPEN, TZ, Ivr, call

EVENING = datetime(2026, 11, 24, 20, 0, tzinfo=TZ)
#: (caller's actions, time) of two long paths: a call-back taken during a long wait, and a voicemail.
PATHS = {
    "callback": (("1", "2", "1", "1"), OPEN),
    "voicemail": (("1", "1", "6", Speak(5.0)), EVENING),  # 刑事 after hours: voicemail
}


def full_length(ivr: Ivr, name: str) -> int:
    actions, at = PATHS[name]
    [simulated] = ivr.run(call(*actions), at=at)
    return len(simulated.commands)


def after_hangup(simulated: SimulatedCall) -> list[str]:
    """Commands needing a live channel that the server sent after Asterisk reported the hang-up."""
    responses = [e.response for e in simulated.exchanges]
    first_dead = next(
        (i for i, r in enumerate(responses) if r.startswith(("511", "200 result=-1"))), len(simulated.exchanges)
    )
    return [c for c in simulated.commands[first_dead + 1 :] if c.split(" ")[0] in {v.split()[0] for v in NEEDS_CHANNEL}]


@pytest.mark.parametrize("name", sorted(PATHS))
def test_hangup_at_every_step_is_clean_and_recorded(ivr: Ivr, name: str, caplog: pytest.LogCaptureFixture) -> None:
    ivr.live("legal-aid", waiting=9, members_available=0, talking=1, members_on_duty=1, avg_handle_s=300.0)
    actions, at = PATHS[name]
    total = full_length(ivr, name)
    # Each caller their own number: one caller calling 60 times would trip the repeat-nuisance rule.
    during = [call(*actions, hangup_at_command=k, callerid=f"1390000{k:04d}") for k in range(total)]
    between = [call(*actions, hangup_after_response=k, callerid=f"1370000{k + 1:04d}") for k in range(-1, total)]
    with caplog.at_level(logging.INFO):
        ivr.run(*during, *between, at=at)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    for simulated in during + between:
        row = ivr.session(simulated)
        assert row.ended_at is not None
        assert after_hangup(simulated) == []
        if row.exit == "hangup":
            assert row.path[-1]["key"] == "hangup" and "caller-hung-up" in row.flags
        else:
            # Hung up after the outcome was settled: the request or message stands.
            assert row.exit in ("callback", "voicemail", "closed", "queue:legal-aid"), row.exit
    exits = {ivr.session(s).exit for s in during}
    assert "hangup" in exits and len(exits) > 1


def test_failure_inside_a_session_leaves_the_dialplan_default_and_others_unharmed(
    ivr: Ivr, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = destinations.enter_queue

    async def failing(call_, name, node):  # type: ignore[no-untyped-def]
        if node.queue == "mediation":
            raise RuntimeError("simulated fault")
        await original(call_, name, node)

    monkeypatch.setattr(destinations, "enter_queue", failing)
    with caplog.at_level(logging.ERROR):
        broken, fine = ivr.run(call("1", "3"), call("1", "2"))
    assert "HOTLINE_ROUTE" not in broken.variables  # Asterisk goes on with the dialplan's defaults
    assert ivr.session(broken).exit == "error"
    assert fine.variables["HOTLINE_QUEUE"] == "legal-aid"
    assert any("simulated fault" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_unknown_script_and_garbage_are_refused_without_harm(ivr: Ivr) -> None:
    async def main() -> tuple[bytes, bytes, SimulatedCall]:
        server = await start_ivr_server(ivr.context, "127.0.0.1", 0, clock=lambda: OPEN)
        host, port = server.address
        try:
            other = call(script="no-such-script")
            await other.run(host, port)
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            garbage = await reader.read()
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"agi_network: yes\nagi_uniq")  # cut off mid-block
            writer.write_eof()
            cut = await reader.read()
            writer.close()
            good = await call("1", "2").run(host, port)
            assert server.stats.rejected_sessions == 3
        finally:
            server.close()
            await server.wait_closed()
        assert other.commands == []
        return garbage, cut, good

    garbage, cut, good = asyncio.run(main())
    assert garbage == b"" and cut == b""
    assert good.variables["HOTLINE_QUEUE"] == "legal-aid"
    with ivr.context.sessions() as db:
        assert len(db.scalars(select(IvrSession)).all()) == 1


def test_path_goes_onto_an_existing_call_row(ivr: Ivr) -> None:
    from storage.tables import Call

    simulated = call("1", "1", "3")
    linkedid = dict(simulated.env)["agi_uniqueid"]
    with ivr.context.sessions.begin() as db:
        db.add(Call(linkedid=linkedid))
    ivr.run(simulated)
    with ivr.context.sessions() as db:
        path = db.scalar(select(Call.ivr_path).where(Call.linkedid == linkedid))
    assert [step["node"] for step in path] == ["welcome", "language", "main", "consult-topics", "property"]


def test_claiming_call_backs_respects_arrival_and_callers_on_the_line(ivr: Ivr) -> None:
    ivr.live("mediation", members_on_duty=0, members_available=0, talking=0)
    early, late = call("1", "3", "1", "1"), call("1", "3", "1", "1", callerid="13900003333")
    ivr.run(early, at=OPEN)
    ivr.live("mediation", at=OPEN.replace(minute=5), members_on_duty=0, members_available=0, talking=0)
    ivr.run(late, at=OPEN.replace(minute=5))
    with ivr.context.sessions.begin() as db:
        # Someone who joined at 09:58 is still waiting: they go first.
        assert claim_next_callback(db, "mediation", [OPEN.replace(hour=9, minute=58)], OPEN) is None
        first = claim_next_callback(db, "mediation", [OPEN.replace(minute=1)], OPEN)
        assert first is not None and first.linkedid == ivr.session(early).uniqueid and first.status == "dialling"
        second = claim_next_callback(db, "mediation", [], OPEN)
        assert second is not None and second.linkedid == ivr.session(late).uniqueid
        assert claim_next_callback(db, "mediation", [], OPEN) is None  # both are being dialled
