"""The bridge through an Asterisk outage (issue 11, defects 2 and 3), against the AMI simulator.

The simulator stops listening (connections refused, as when Asterisk is down or restarting) and
comes back on the same port. The same faults against a real Asterisk are in tests/pbx.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from hotline.ami import simulator as simulator_module
from hotline.ami.simulator import AmiSimulator
from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.bridge.core import wants
from hotline.reports.kpi import compute_kpis
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


def test_an_asterisk_still_starting_is_waited_for_rather_than_backed_off_from(context: Context) -> None:
    """A restarting Asterisk accepts logins before app_queue is loaded: the resync's QueueStatus was
    refused, which counted as Asterisk refusing the bridge and doubled the delay. Now the bridge
    waits for FullyBooted on the session it has."""

    async def scenario() -> None:
        simulator = AmiSimulator()
        async with running(context, simulator, backoff_initial_s=0.05, retry_probe_s=0.1, backoff_max_s=30) as bridge:
            host, port = bridge.options.host, bridge.options.port
            await simulator.close()
            await until(lambda: not bridge.ready.is_set(), what="the bridge to notice")
            simulator.booted = False
            await simulator.start(host, port)  # listening again, still loading modules
            await until(lambda: simulator.logged_in_clients == 1, what="a login")
            attempts = bridge.attempts
            await asyncio.sleep(0.5)
            assert not bridge.ready.is_set()
            await simulator.boot()
            await until(bridge.ready.is_set, what="resynchronised once Asterisk is up")
            assert bridge.attempts == attempts and simulator.logged_in_clients == 1  # the same session
            assert "QueueStatus" not in (bridge.last_error or "")

    run(scenario())


def test_a_call_that_ended_during_an_outage_keeps_its_talk_time_unknown_and_out_of_aht(context: Context) -> None:
    """Defect 4: a call closed out by the resync got the resync time as its end (47.6 s of talk
    recorded for a call that lasted at most 17.8 s), which skewed AHT. Trace 02 (answered at
    .762, hung up at 935.820 after 3.06 s) loses its link right after the answer; Asterisk's clock
    is 40 s further on when the bridge looks again. Then trace 02b runs in full."""

    async def scenario() -> None:
        clock = [1795448931.0]
        simulator = AmiSimulator(clock=lambda: clock[0])
        first, second = trace("02-call-answered"), trace("02b-call-answered-agent-hangup")
        events = [m for m in first if m.kind == "event"]
        answered = max(i for i, m in enumerate(events) if m.name == "BridgeEnter")
        async with running(context, simulator) as bridge:
            await simulator.play(events[: answered + 1], speed=0)
            await until(lambda: bridge.tracker.calls.get("1795448931.75"), what="the call tracked")
            clock[0] = 1795448934.0  # Pings answered now say the call is up at this time
            await asyncio.sleep(1.2)
            simulator.accepting = False
            await simulator.drop_connections()
            await until(lambda: not bridge.ready.is_set(), what="the bridge to notice")
            await simulator.play(events[answered + 1 :], speed=0)  # AgentComplete and Hangup, unseen
            clock[0] = 1795448975.8
            simulator.accepting = True
            await until(lambda: bridge.ready.is_set() and bridge.resyncs >= 2, what="reconnect and resync")
            await until(finished(context, 1), what="the call closed out")
            clock[0] = 1795448940.0
            await simulator.play(second, speed=0)
            await until(finished(context, 2), what="the second call")

        found = rows(context)
        lost, seen = found["1795448931.75"], found["1795448940.77"]
        assert lost.outcome == "answered" and lost.reconciled_by == "resync"
        assert lost.end_seen is False and lost.talk_seconds is None and lost.wrapup_seconds is None
        # Its end is the last moment it was known to be up: a lower bound, never past the real end.
        assert lost.ended_at is not None and lost.answered_at is not None
        assert lost.answered_at.timestamp() < lost.ended_at.timestamp() <= 1795448935.82
        assert seen.end_seen is True and seen.talk_seconds == 3.003

        start = datetime(2026, 11, 23, tzinfo=UTC)
        with context.sessions() as session:
            [row] = compute_kpis(session, start, start + timedelta(days=2), threshold_s=20, tz=ZoneInfo("UTC"))
        assert (row.counts.answered, row.counts.handled) == (2, 1)
        assert row.counts.aht == 3.0  # the second call's talk alone (no wrap-up configured)

    run(scenario())


def test_health_is_degraded_while_the_bridge_has_no_link_to_asterisk(context: Context) -> None:
    """Defect 9: /api/health said "ok" with the PBX disconnected. With a real Asterisk configured,
    the bridge component (and so the service) is degraded while the bridge has no AMI link, with the
    reason, at once (the heartbeat is written when the link changes); ok again once it is back."""
    settings = context.settings.model_copy(update={"ami_host": "127.0.0.1", "ami_username": "hotline"})
    real = dataclasses.replace(context, settings=settings)

    def bridge_health() -> dict[str, Any]:
        with TestClient(create_app(real)) as client:
            response = client.get("/api/health")
        assert response.status_code == 200  # the API itself works; 503 is for the database or Redis
        body: dict[str, Any] = response.json()["components"]["bridge"]
        return body

    def heartbeat() -> bytes:
        return context.redis.client.get("hotline:bridge:default:alive") or b""

    async def scenario() -> None:
        assert (await asyncio.to_thread(bridge_health))["status"] == "degraded"  # no bridge running
        simulator = AmiSimulator()
        async with running(context, simulator) as bridge:
            await until(lambda: b'"connected": true' in heartbeat(), what="a heartbeat")
            assert (await asyncio.to_thread(bridge_health))["status"] == "ok"

            simulator.accepting = False  # Asterisk gone
            await simulator.drop_connections()
            await until(lambda: not bridge.ready.is_set() and bridge.last_error, what="the bridge to notice")
            await until(lambda: b'"connected": false' in heartbeat(), what="the heartbeat to say so")
            component = await asyncio.to_thread(bridge_health)
            assert component["status"] == "degraded" and component["connected"] is False
            assert component["last_error"]

            simulator.accepting = True
            await until(bridge.ready.is_set, what="reconnected")
            await until(lambda: b'"connected": true' in heartbeat(), what="the heartbeat to say so")
            assert (await asyncio.to_thread(bridge_health))["status"] == "ok"

    run(scenario())
