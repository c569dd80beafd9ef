"""The bridge through an Asterisk outage (issue 11, defects 2 and 3), against the AMI simulator.

The simulator stops listening (connections refused, as when Asterisk is down or restarting) and
comes back on the same port. The same faults against a real Asterisk are in tests/pbx.
"""

from __future__ import annotations

import asyncio

import pytest

from hotline.ami import simulator as simulator_module
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge.core import wants
from tests.integration.test_bridge import finished, rows, run, running, trace, until
from tests.traces import needs_traces

pytestmark = needs_traces


def logins(simulator: AmiSimulator) -> int:
    return sum(1 for m in simulator.received if (m.get("Action") or "").lower() == "login")


def test_after_an_outage_exactly_one_session_remains_and_each_event_counts_once(context: Context) -> None:
    """Each failed attempt used to leave a panoramisk Manager retrying on its own: after a 20 s
    outage, 6 sessions logged in, each feeding the same events into the bridge."""

    async def scenario() -> None:
        simulator = AmiSimulator()
        async with running(context, simulator, backoff_initial_s=0.05, retry_probe_s=0.1) as bridge:
            host, port = bridge.options.host, bridge.options.port
            await simulator.close()  # Asterisk down: connections refused
            await until(lambda: not bridge.ready.is_set(), what="the bridge to notice")
            failed_from = bridge.attempts
            await until(lambda: bridge.attempts >= failed_from + 6, what="several failed attempts")
            simulator.received.clear()
            await simulator.start(host, port)  # Asterisk back on the same port
            await until(bridge.ready.is_set, what="reconnected")
            await asyncio.sleep(2.5)  # longer than panoramisk's own retry interval (2 s)
            assert simulator.logged_in_clients == 1
            assert logins(simulator) == 1

            before = bridge.core.events
            call = trace("02-call-answered")
            await simulator.play(call, speed=0)
            await until(finished(context, 1), what="the call's row")
            wanted = sum(1 for m in call if m.kind == "event" and wants(m.raw) and b"\r\nActionID: " not in m.raw)
            await until(lambda: bridge.core.events - before >= wanted, what="the call's events")
            await asyncio.sleep(0.2)
            assert bridge.core.events - before == wanted  # each event applied once
            assert len(rows(context)) == 1

    run(scenario())


def test_retries_stay_about_a_second_apart_while_nobody_answers_and_back_off_when_refused(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recovery used to take 14-44 s: the delay doubled to 30 s whatever the failure. A refused TCP
    connection costs a down PBX nothing, so the bridge keeps trying about once a second (a PBX that
    answers again is found within that), and backs off to 30 s only when Asterisk refuses the login."""
    monkeypatch.setattr(simulator_module, "LOGIN_FAILURE_DELAY_S", 0.0)

    async def scenario() -> None:
        simulator = AmiSimulator()
        options = {"backoff_initial_s": 0.25, "retry_probe_s": 1.0, "backoff_max_s": 30.0}
        async with running(context, simulator, **options) as bridge:
            host, port = bridge.options.host, bridge.options.port
            delays: list[float] = []

            async def planned(delay: float) -> None:  # note the delay the bridge chose; skip the wait
                delays.append(delay)
                await asyncio.sleep(0.001)

            bridge.sleep = planned
            await simulator.close()  # down for what would be more than 30 s at the bridge's pace
            await until(lambda: len(delays) >= 40, what="40 attempts")
            assert max(delays) <= 1.0  # Asterisk is found within a second of answering again
            steady = delays[4:]
            assert sum(steady) / len(steady) >= 0.75  # and a down PBX is not hammered

            simulator.secret = "rotated-secret"  # Asterisk answers, but refuses the login
            await simulator.start(host, port)
            delays.clear()
            await until(lambda: len(delays) >= 9, what="9 refused logins")
            assert delays[0] <= 2.0 and delays[-1] >= 0.75 * 30.0 and max(delays) <= 30.0
            assert bridge.last_error is not None and "Authentication failed" in bridge.last_error
            assert not bridge.ready.is_set()

    run(scenario())
