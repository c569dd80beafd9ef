"""The bridge against the real Asterisk through faults (issue 11, defects 1-4 and 9): Asterisk killed
and started again mid-call, the AMI TCP connection cut mid-call, and a burst of 100 calls.

What each checks is what an operator would: one AMI session of the bridge's user once it is back
(`manager show connected`), a call that ended out of the bridge's sight recorded with its end marked
unseen and no invented talk time, /api/health degraded while the link is down, and every call
Asterisk took recorded once. How fast the bridge comes back is measured by scripts/bench_pbx.py.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.bootstrap import Context
from storage.tables import Call
from tests.ami_logins import failed_logins
from tests.pbx.asterisk import Asterisk, choose_ports, generate_config
from tests.pbx.harness import HotlinePbx, wait_for
from tests.pbx.relay import TcpRelay
from tests.pbx.sipp import TO_OPERATOR, Caller, Phone
from tests.pbx.test_ivr import AFTER_EXIT_MS


def hotline_sessions(asterisk: Asterisk) -> int:
    """Sessions of the bridge's AMI user, as Asterisk lists them."""
    listing = asterisk.cli("manager show connected")
    return len(re.findall(rf"^\s*{re.escape(asterisk.config.ami_username)}\s", listing, re.M))


def health(context: Context) -> tuple[int, dict[str, Any]]:
    with TestClient(create_app(context)) as client:
        response = client.get("/api/health")
    return response.status_code, response.json()


def bridge_connected(context: Context) -> bool | None:
    """The bridge's own heartbeat: connected to Asterisk or not (None: no heartbeat)."""
    raw = context.redis.client.get("hotline:bridge:default:alive")
    return None if raw is None else b'"connected": true' in raw


def talking(pbx: HotlinePbx, phone: str, number: str) -> Call:
    """A call from `number` through the IVR to the operator queue, answered by PJSIP/`phone` and
    talking for a second (neither side hangs up); its row as the bridge wrote it at the answer."""
    assert pbx.context is not None
    context = pbx.context
    pbx.asterisk.cli(f"queue add member PJSIP/{phone} to zonghe")
    pbx.phone(phone, Phone(answer_after_ms=300, hangup_after_ms=None))
    pbx.call(Caller(keys=TO_OPERATOR, hangup_after_ms=None, number=number))

    def probe() -> Call | None:
        with context.sessions() as db:
            query = select(Call).where(Call.caller_number == number, Call.answered_at.is_not(None))
            return db.scalars(query).first()

    call = wait_for(probe, 60, f"the call from {number} answered")
    time.sleep(1.0)
    return call


def ended_row(context: Context, linkedid: str) -> Call:
    def probe() -> Call | None:
        with context.sessions() as db:
            row = db.scalars(select(Call).where(Call.linkedid == linkedid)).one()
            return row if row.outcome != "in_progress" else None

    return wait_for(probe, 30, f"call {linkedid} closed out")


def test_logins_to_a_real_asterisk_under_uvloop_all_succeed(asterisk: Asterisk) -> None:
    """Defect 1: under uvloop, 42 of 100 logins to this Asterisk were reported as failed (the login
    future was cleared before it was awaited), although Asterisk accepted every one."""
    import uvloop

    assert uvloop.run(failed_logins(*asterisk.ami, 40)) == []


def test_asterisk_killed_and_started_again_mid_call(pbx: HotlinePbx) -> None:
    """Defects 2, 3, 4 and 9 on a crash: one session after recovery; the call cut by the crash ends
    at the last moment it was known up, with its talk time unknown; health degraded meanwhile."""
    context, asterisk = pbx.context, pbx.asterisk
    assert context is not None
    call = talking(pbx, "2001", "13900000011")

    killed_at = time.time()
    asterisk.kill()
    wait_for(lambda: bridge_connected(context) is False, 20, "the bridge to report the link down")
    code, body = health(context)
    bridge = body["components"]["bridge"]
    assert code == 200 and body["status"] == "degraded" and bridge["status"] == "degraded" and bridge["last_error"]

    asterisk.start()
    wait_for(lambda: bridge_connected(context), 30, "the bridge back on the restarted Asterisk")
    time.sleep(3)  # longer than panoramisk's own retry (2 s): a leaked Manager would have logged in
    assert hotline_sessions(asterisk) == 1

    row = ended_row(context, call.linkedid)
    assert row.outcome == "answered" and row.reconciled_by == "resync"
    assert row.end_seen is False and row.talk_seconds is None and row.wrapup_seconds is None
    assert row.answered_at is not None and row.ended_at is not None
    assert row.answered_at <= row.ended_at and row.ended_at.timestamp() <= killed_at
    code, body = health(context)
    assert code == 200 and body["components"]["bridge"]["status"] == "ok"


@pytest.fixture
def relayed(
    context: Context, asterisk: Asterisk, pbx_sounds: Path, tmp_path: Path
) -> Iterator[tuple[HotlinePbx, TcpRelay]]:
    """The hotline whose AMI connection runs through a loopback relay the test can cut."""
    asterisk.reset()
    relay = TcpRelay(asterisk.ports.ami)
    hotline = HotlinePbx(context, asterisk, tmp_path, pbx_sounds)
    hotline.start(ami_port=relay.port)
    try:
        yield hotline, relay
    finally:
        hotline.stop()
        relay.close()


def test_the_ami_connection_cut_while_a_call_ends(relayed: tuple[HotlinePbx, TcpRelay]) -> None:
    """The network between bridge and Asterisk fails; the call ends meanwhile (Asterisk hangs it up);
    the link comes back. Exactly one session; the call's end is marked unseen, bounded by the last
    word heard before the cut."""
    pbx, relay = relayed
    context, asterisk = pbx.context, pbx.asterisk
    assert context is not None
    call = talking(pbx, "2002", "13900000012")

    cut_at = time.time()
    relay.cut()
    wait_for(lambda: bridge_connected(context) is False, 20, "the bridge to notice the cut")
    asterisk.cli("channel request hangup all")  # the call ends while the bridge cannot see it
    wait_for(lambda: "0 active channels" in asterisk.cli("core show channels count"), 10, "the call gone")
    time.sleep(2.5)  # the bridge keeps trying through the cut link
    relay.restore()
    wait_for(lambda: bridge_connected(context), 20, "the bridge back through the relay")
    time.sleep(3)
    assert hotline_sessions(asterisk) == 1 and relay.links == 1

    row = ended_row(context, call.linkedid)
    assert row.outcome == "answered" and row.end_seen is False and row.talk_seconds is None
    assert row.ended_at is not None and row.ended_at.timestamp() <= cut_at


@pytest.fixture
def burst_pbx(
    context: Context, asterisk: Asterisk, pbx_home: Path, pbx_sounds: Path, tmp_path: Path
) -> Iterator[HotlinePbx]:
    """The hotline on an Asterisk of its own (same build, its own ports), stopped afterwards. On the
    shared one, after the burst (every channel hung up, every table emptied), the next test's lawyer
    phone was still rung with the burst's caller numbers; the cause is not found yet."""
    home = pbx_home / "burst"
    shutil.rmtree(home, ignore_errors=True)
    own = Asterisk(asterisk.build, home, generate_config(home / "etc", choose_ports()))
    own.start()
    hotline = HotlinePbx(context, own, tmp_path, pbx_sounds)
    try:
        yield hotline.start()
    finally:
        hotline.stop()
        own.stop()


def test_a_burst_of_100_calls_is_recorded_call_for_call(burst_pbx: HotlinePbx) -> None:
    """100 calls in 10 s: half hang up in the welcome prompt, half choose the operator and wait in
    queue zonghe, where two lawyers answer what they can and the rest give up. Every call Asterisk
    took is one row, closed, with the outcome its events gave; the queue's share as app_queue's own
    queue_log counted it (entered, connected, abandoned)."""
    assert burst_pbx.context is not None
    _burst(burst_pbx, burst_pbx.context, burst_pbx.asterisk)


def _burst(pbx: HotlinePbx, context: Context, asterisk: Asterisk) -> None:
    for name in ("2003", "2004"):
        asterisk.cli(f"queue add member PJSIP/{name} to zonghe")
        pbx.phone(name, Phone(answer_after_ms=300, hangup_after_ms=2000, calls=50))
    quick = pbx.call(Caller(hangup_after_ms=2000, number="1390001[call_number]"), calls=50, rate=5)
    # After "0" the IVR takes ~10.5 s (the operator's wait announcement, "connecting") before the
    # queue; callers who hang up sooner are rightly not_queued (they were the burst's "left over"
    # callers when they waited only 6 s).
    waiting = pbx.call(
        Caller(keys=TO_OPERATOR, hangup_after_ms=AFTER_EXIT_MS, number="1390002[call_number]"), calls=50, rate=5
    )
    quick.wait(120)
    waiting.wait(120)

    def recorded() -> dict[str, int] | None:
        with context.sessions() as db:
            outcomes = dict(db.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all())
        return outcomes if sum(outcomes.values()) >= 100 and "in_progress" not in outcomes else None

    outcomes = wait_for(recorded, 60, "100 calls recorded and closed")
    assert sum(outcomes.values()) == 100, outcomes
    with context.sessions() as db:
        rows = db.scalars(select(Call)).all()
    assert len({row.linkedid for row in rows}) == 100
    assert all(row.end_seen for row in rows)
    assert outcomes.get("answered", 0) >= 1 and outcomes.get("abandoned", 0) >= 1, outcomes
    assert all(row.offered_at is None for row in rows if row.caller_number.startswith("1390001"))
    logged = Counter(line[4] for line in asterisk.queue_log() if line[2] == "zonghe")
    offered = [row for row in rows if row.offered_at is not None]
    assert (len(offered), outcomes.get("answered", 0)) == (logged["ENTERQUEUE"], logged["CONNECT"]), logged
    assert outcomes.get("abandoned", 0) + outcomes.get("ring_no_answer_abandoned", 0) == logged["ABANDON"], logged
    assert hotline_sessions(asterisk) == 1
