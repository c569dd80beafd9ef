"""Two Asterisk nodes: two simulators, two bridges, one database and one Redis.

Both simulators hand out the same Linkedids (their Uniqueid counters start alike, as two Asterisks
without `systemname` would): the rows stay apart by node. The bridges write at the same time; every
call is a row, the hourly rollup equals a recount from the rows and the totals planned here, callers
seen on both nodes are counted twice, the wallboard merges both nodes, and a lawyer's action goes to
the node where the lawyer's phone is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.account_admin import change_user, find_user
from hotline.accounts import create_user
from hotline.ami.sim_calls import CallFactory, Event, Member
from hotline.ami.sim_queues import SimMember, SimQueues
from hotline.ami.simulator import AmiSimulator
from hotline.api.deps import routed_bridge
from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.bridge.runner import RosterAction, roster_work
from hotline.bridge.service import Bridge, BridgeOptions, WhileConnected
from hotline.bridge_client import RoutedBridgeClient
from hotline.live.nodes import find_call, merged_state
from hotline.live.publisher import live_keys
from hotline.reports.kpi import compute_kpis
from hotline.rosters.reconciler import NodeScope
from hotline.supervise import IVR_ALIVE_KEY, ivr_alive_payload
from ivr.waiting import live_queues_key
from storage.tables import Call, Caller, DutyShift
from tests.integration.conftest import sign_in
from ticketing.domain.roles import Role

QUEUES = ["consult", "labour"]
THRESHOLD = 20
NODES = {"pbx-a": "PJSIP/1001", "pbx-b": "PJSIP/2001"}


@dataclass(frozen=True)
class Planned:
    caller: str
    queue: str
    answered: bool
    wait_s: float


def plan(node_index: int, count: int) -> list[Planned]:
    """Calls with waits on both sides of the SL threshold, answered and abandoned, both queues; the
    same callers on both nodes, the outcomes differing by node."""
    calls = []
    for i in range(count):
        answered = (i + node_index) % 3 != 0
        wait = (5.0, 12.0, 35.0, 61.0)[(i * (node_index + 1)) % 4]
        calls.append(Planned(f"1380808{i:04d}", QUEUES[i % 2], answered, wait))
    return calls


def events_for(factory: CallFactory, member: Member, calls: list[Planned], base: float) -> list[Event]:
    out: list[Event] = []
    for i, call in enumerate(calls):
        at = base + i * 20.0  # 30 calls per 10 minutes: all inside two whole hours
        if call.answered:
            out += factory.answered(call.caller, call.queue, member, at, wait_s=call.wait_s, talk_s=30.0)
        else:
            out += factory.abandoned(call.caller, call.queue, at, wait_s=call.wait_s)
    return sorted(out, key=lambda event: event[0])


@asynccontextmanager
async def node(
    context: Context,
    name: str,
    queues: SimQueues | None = None,
    roster: tuple[WhileConnected, RosterAction] | None = None,
) -> AsyncIterator[tuple[AmiSimulator, Bridge]]:
    """A simulator and its bridge, named `name`; with `roster`, the bridge runs the roster loop and
    serves roster passes on request, as `hotline bridge` does."""
    simulator = AmiSimulator(handlers=[queues or SimQueues(QUEUES)])
    host, port = await simulator.start()
    client = aioredis.Redis.from_url(context.redis.url)
    options = BridgeOptions(host, port, "hotline", "hotline-secret", node=name, ping_interval_s=0.5,
                            backoff_initial_s=0.05, wrapup_s=10.0, sl_threshold_s=THRESHOLD)  # fmt: skip
    bridge = Bridge(options, context.sessions, client, while_connected=[roster[0]] if roster else None)
    if roster:
        bridge.actions.register("reconcile_roster", roster[1])
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(bridge.ready.wait(), 20)
        yield simulator, bridge
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()
        await simulator.close()


async def until(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout  # a bound on waiting, not a speed requirement
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_ivr_reads_its_own_nodes_queues() -> None:
    """Contract: the key the IVR reads is the one its node's bridge writes."""
    for name in ("default", *NODES):
        assert live_queues_key(name) == live_keys(name).queues


def test_two_bridges_share_one_database_and_redis_exactly(context: Context) -> None:
    count = 60
    base_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    base = base_hour.timestamp() + 60
    plans = {name: plan(i, count) for i, name in enumerate(NODES)}
    linkedids: dict[str, set[str]] = {}

    def rows_done() -> bool:
        with context.sessions() as session:
            done = session.scalar(select(func.count()).select_from(Call).where(Call.outcome != "in_progress"))
            return done == 2 * count

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            nodes = {name: await stack.enter_async_context(node(context, name)) for name in NODES}
            streams = {}
            waiting = {}
            now = float(int(time.time()))  # one second for both nodes' waiting callers: one Linkedid
            for name, interface in NODES.items():
                factory = CallFactory(first_sequence=1000)  # both nodes: the same Linkedids
                member = Member(interface, f"律师{interface[-4:]}")
                seat = factory.member_added("consult", member, now)
                streams[name] = seat + events_for(factory, member, plans[name], base)
                # One caller still waiting now on each node (the call's events up to joining the queue).
                now_call = factory.abandoned("13900000000", "consult", now, wait_s=3600)
                joined = next(e for e in now_call if b"Event: QueueCallerJoin" in e[1])
                waiting[name] = now_call[: now_call.index(joined) + 1]

            async def feed(name: str) -> None:
                simulator = nodes[name][0]
                for _, raw in streams[name] + waiting[name]:
                    await simulator.send_event(raw)

            for name in NODES:
                linkedids[name] = {_linkedid(raw) for _, raw in streams[name] if b"Event: Newchannel" in raw} - {None}
                linkedids[name].discard(_linkedid(waiting[name][0][1]))  # the caller still waiting
            await asyncio.gather(*(feed(name) for name in NODES))  # both bridges write at once
            await until(rows_done, 60, "both nodes' calls written")
            state = await until(lambda: _both_waiting(context), 30, "both waiting callers on the wallboard")

            # The wallboard: one queue view with both nodes' callers and lawyers; calls tagged by node.
            [consult] = [q for q in state["queues"] if q["queue"] == "consult"]
            assert consult["waiting"] == 2 and consult["members_on_duty"] == 2 and consult["nodes"] == 2
            assert sorted((a["interface"], a["node"]) for a in state["agents"]) == sorted(
                (interface, name) for name, interface in NODES.items()
            )
            assert sorted(c["node"] for c in state["calls"]) == sorted(NODES)
            assert len({c["linkedid"] for c in state["calls"]}) == 1  # the same Linkedid on both nodes

            # A lawyer's pause goes to the Asterisk the lawyer's phone is on, and only there.
            routed = RoutedBridgeClient(context.redis.client)
            assert routed.for_interface("PJSIP/2001").node == "pbx-b"
            await asyncio.to_thread(routed.queue_pause, "PJSIP/2001", True, "培训")
            sim_a, sim_b = nodes["pbx-a"][0], nodes["pbx-b"][0]
            assert any(a.get("Interface") == "PJSIP/2001" for a in sim_b.received if a.name.lower() == "queuepause")
            assert not any(a.name.lower() == "queuepause" for a in sim_a.received)

    asyncio.run(asyncio.wait_for(scenario(), 150))

    with context.sessions() as session:
        calls = session.scalars(select(Call).where(Call.outcome != "in_progress")).all()
        by_node = {name: sorted(c.linkedid for c in calls if c.node == name) for name in NODES}
        assert len(by_node["pbx-a"]) == len(by_node["pbx-b"]) == count
        for name in NODES:
            assert by_node[name] == sorted(linkedids[name])
        shared = set(by_node["pbx-a"]) & set(by_node["pbx-b"])
        assert len(shared) >= count // 3  # the same Linkedid on both nodes: two rows, one per node
        counts = dict(session.execute(select(Caller.number, Caller.call_count)).all())
        assert all(counts[f"1380808{i:04d}"] == 2 for i in range(count))

        tz = ZoneInfo("Asia/Shanghai")
        start, end = base_hour, base_hour + timedelta(hours=2)
        kwargs = {"threshold_s": THRESHOLD, "tz": tz, "by_queue": True}
        rollup = compute_kpis(session, start, end, rollup_threshold_s=THRESHOLD, **kwargs)  # type: ignore[arg-type]
        recount = compute_kpis(session, start, end, rollup_threshold_s=None, **kwargs)  # type: ignore[arg-type]
    assert [r.report() for r in rollup] == [r.report() for r in recount]
    every = [call for planned in plans.values() for call in planned]
    for row in rollup:
        mine = [c for c in every if c.queue == row.queue]
        assert row.counts.offered == len(mine)
        assert row.counts.answered == sum(c.answered for c in mine)
        assert row.counts.abandoned == sum(not c.answered for c in mine)
        assert row.counts.answered_within_t == sum(c.answered and c.wait_s <= THRESHOLD for c in mine)
        assert row.counts.abandoned_within_t == sum(not c.answered and c.wait_s <= THRESHOLD for c in mine)
    assert sum(r.counts.offered for r in rollup) == 2 * count


def _both_waiting(context: Context) -> dict | None:  # type: ignore[type-arg]
    state = merged_state(context.redis.client)
    consult = [q for q in state["queues"] if q["queue"] == "consult"]
    return state if consult and consult[0]["waiting"] == 2 and len(state["agents"]) == 2 else None


def _linkedid(raw: bytes) -> str | None:
    for line in raw.decode().split("\r\n"):
        if line.startswith("Linkedid: "):
            return line.removeprefix("Linkedid: ")
    return None


def test_each_bridge_seats_only_its_own_nodes_lawyers(context: Context) -> None:
    """Roster reconciliation per node: every lawyer is on duty all day, yet each simulator's queues hold
    exactly the lawyers of its node (users.node; none: the first node). A lawyer moved to the other
    node leaves the old node's queues and joins the new one's; click-to-call of a lawyer in no queue
    at all rings on the lawyer's node, and a transfer goes to the node where the call is."""
    cluster = dataclasses.replace(context, settings=context.settings.model_copy(update={"nodes": "pbx-a,pbx-b"}))
    everything = [q.name for q in context.config.service_hours.queues]
    tz = ZoneInfo(context.settings.timezone)
    today = datetime.now(tz).date()
    lawyers = {"a1": ("PJSIP/1001", "pbx-a"), "a2": ("PJSIP/1002", None), "b1": ("PJSIP/2001", "pbx-b"),
               "b2": ("PJSIP/2002", "pbx-b")}  # fmt: skip
    with context.sessions.begin() as session:
        for username, (interface, home) in lawyers.items():
            user = create_user(session, username, "correct-horse-12348", Role.LAWYER, username, interface=interface,
                               node=home)  # fmt: skip
            # Today and tomorrow: on duty at every roster pass, even one after local midnight.
            for day in (today, today + timedelta(days=1)):
                session.add(DutyShift(user_id=user.id, day=day, starts_at=dt_time(0), ends_at=dt_time(0),
                                      ends_next_day=True, queues=["consult", "labour"], languages=["普通话"],
                                      source_file="t.csv", source_row=2, imported_by="test"))  # fmt: skip
        # Off duty today, on pbx-b: in no queue anywhere.
        create_user(session, "b3", "correct-horse-12348", Role.LAWYER, "b3", interface="PJSIP/2003", node="pbx-b")

    def seated(simulator_queues: SimQueues) -> dict[str, set[str]]:
        return {q: set(simulator_queues.members(q)) for q in ("consult", "labour")}

    def both(*interfaces: str) -> dict[str, set[str]]:
        return {q: set(interfaces) for q in ("consult", "labour")}

    async def scenario() -> None:
        sims = {name: SimQueues(everything) for name in NODES}
        # b2's phone left over in pbx-a's queue (b2 used to be on pbx-a): pbx-a's bridge takes it out.
        sims["pbx-a"].members("consult")["PJSIP/2002"] = SimMember("PJSIP/2002", "b2", "PJSIP/2002")
        simulators = {}
        async with AsyncExitStack() as stack:
            for name in NODES:
                roster = roster_work(cluster, NodeScope(name, cluster.settings.home_node))
                simulators[name], _ = await stack.enter_async_context(node(context, name, sims[name], roster))
            expected = {"pbx-a": both("PJSIP/1001", "PJSIP/1002"), "pbx-b": both("PJSIP/2001", "PJSIP/2002")}
            for name in NODES:
                await until(lambda n=name: seated(sims[n]) == expected[n], 30, f"{name} seated")
            for queue in set(everything) - {"consult", "labour"}:
                assert all(not sims[n].members(queue) for n in NODES)

            # a2 moves to pbx-b: after a roster pass on every node, pbx-a lets go and pbx-b seats it.
            with context.sessions.begin() as session:
                change_user(session, None, find_user(session, "a2"), node="pbx-b")
            routed = routed_bridge(cluster)
            result = await asyncio.to_thread(routed.reconcile_roster)
            assert result["nodes"]["pbx-a"]["on_duty"] == 1 and result["nodes"]["pbx-b"]["on_duty"] == 3
            assert seated(sims["pbx-a"]) == both("PJSIP/1001")
            assert seated(sims["pbx-b"]) == both("PJSIP/2001", "PJSIP/2002", "PJSIP/1002")

            # Click-to-call from b3, who is in no queue: rung on pbx-b, where b3's phone registers.
            assert routed.for_interface("PJSIP/2003").node == "pbx-b"
            await asyncio.to_thread(routed.originate_callback, lawyer_interface="PJSIP/2003", number="13800138000")
            received = {n: [a for a in simulators[n].received if a.name.lower() == "originate"] for n in NODES}
            assert [a.get("Channel") for a in received["pbx-b"]] == ["PJSIP/2003"] and received["pbx-a"] == []

            # A caller waiting on pbx-b transferred (to 12345): the Redirect goes to pbx-b, where the call is.
            waiting = CallFactory(first_sequence=5000).abandoned("13900000001", "consult", time.time(), wait_s=600)
            joined = next(i for i, e in enumerate(waiting) if b"Event: QueueCallerJoin" in e[1])
            for _, raw in waiting[: joined + 1]:
                await simulators["pbx-b"].send_event(raw)
            linkedid = _linkedid(waiting[0][1])
            await until(lambda: find_call(context.redis.client, linkedid or ""), 30, "the call in pbx-b's live state")
            await asyncio.to_thread(routed.transfer, linkedid or "", "12345")
            redirects = {n: [a for a in simulators[n].received if a.name.lower() == "redirect"] for n in NODES}
            assert [a.get("Exten") for a in redirects["pbx-b"]] == ["12345"] and redirects["pbx-a"] == []

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_health_reports_the_bridge_and_ivr_of_every_configured_node(context: Context) -> None:
    """/api/health per node: both bridges connected (and since when); one PBX gone makes the bridge
    component degraded naming that node, while the other stays up; an IVR missing on one node is
    degraded too."""
    cluster = dataclasses.replace(context, settings=context.settings.model_copy(update={"nodes": "pbx-a,pbx-b"}))
    for name in NODES:  # the IVRs' heartbeats, as `hotline ivr` on each node writes them
        payload = ivr_alive_payload(name, "127.0.0.1", 4573)
        context.redis.client.set(IVR_ALIVE_KEY.format(node=name), json.dumps(payload), ex=60)

    def health() -> dict[str, Any]:
        with TestClient(create_app(cluster)) as client:
            return dict(client.get("/api/health").json()["components"])

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            sims = {name: (await stack.enter_async_context(node(context, name)))[0] for name in NODES}
            up = await until(lambda: _bridge_ok(health()), 30, "both bridges in /api/health")
            bridge, ivr = up["bridge"], up["ivr"]
            assert bridge["nodes_up"] == ["pbx-a", "pbx-b"] and bridge["nodes_down"] == []
            for name in NODES:
                assert bridge["nodes"][name]["connected"] is True and bridge["nodes"][name]["node"] == name
                assert datetime.fromisoformat(bridge["nodes"][name]["since"]) <= datetime.now(UTC)
                assert ivr["nodes"][name]["status"] == "ok" and ivr["nodes"][name]["node"] == name
            assert ivr["status"] == "ok"

            await sims["pbx-b"].close()  # pbx-b's Asterisk goes away
            down = await until(lambda: _bridge_down(health(), "pbx-b"), 30, "pbx-b down in /api/health")
            bridge = down["bridge"]
            assert bridge["status"] == "degraded" and bridge["connected"] is False
            assert bridge["nodes_up"] == ["pbx-a"] and bridge["nodes"]["pbx-a"]["connected"] is True
            assert bridge["nodes"]["pbx-b"]["running"] is True and "pbx-b" in bridge["reason"]

    asyncio.run(asyncio.wait_for(scenario(), 90))
    # The bridges have stopped (their heartbeats lapse); pbx-b's IVR stops too.
    context.redis.client.delete(IVR_ALIVE_KEY.format(node="pbx-b"), "hotline:bridge:pbx-b:alive")
    ivr = health()["ivr"]
    assert ivr["status"] == "degraded" and ivr["nodes_down"] == ["pbx-b"] and ivr["nodes"]["pbx-a"]["status"] == "ok"


def _bridge_ok(components: dict[str, Any]) -> dict[str, Any] | None:
    return components if components["bridge"]["status"] == "ok" else None


def _bridge_down(components: dict[str, Any], name: str) -> dict[str, Any] | None:
    return components if components["bridge"].get("nodes_down") == [name] else None


def test_an_admin_puts_a_lawyer_on_a_node_and_the_softphone_follows(context: Context) -> None:
    """users.node through the admin API (audited, checked), and the console's softphone WebSocket
    on the lawyer's node: `{node}` in HOTLINE_SIP_WS_URL; no node of their own is the first node."""
    update = {
        "nodes": "pbx-a,pbx-b",
        "sip_ws_url": "wss://hotline.example.org/ws/{node}",
        "sip_domain": "pbx.example.org",
    }
    cluster = dataclasses.replace(context, settings=context.settings.model_copy(update=update))
    with context.sessions.begin() as session:
        create_user(session, "admin", "correct-horse-12348", Role.ADMIN, "管理员")
        create_user(session, "lawyer1", "correct-horse-12348", Role.LAWYER, "张律师", interface="PJSIP/2001")
    with TestClient(create_app(cluster)) as client:
        admin = sign_in(client, "admin", "correct-horse-12348")
        client.cookies.clear()  # bearer tokens from here on, as API clients use them
        lawyer = sign_in(client, "lawyer1", "correct-horse-12348")
        client.cookies.clear()

        def softphone() -> dict[str, Any]:
            return dict(client.get("/api/console/me", headers=lawyer).json()["softphone"])

        assert softphone()["ws_url"] == "wss://hotline.example.org/ws/pbx-a" and softphone()["node"] == "pbx-a"
        moved = client.patch("/api/admin/users/lawyer1", json={"node": "pbx-b"}, headers=admin)
        assert (
            moved.status_code == 200 and moved.json()["changes"] == ["node_change"] and moved.json()["node"] == "pbx-b"
        )
        assert softphone()["ws_url"] == "wss://hotline.example.org/ws/pbx-b"
        assert client.patch("/api/admin/users/lawyer1", json={"node": "pbx b"}, headers=admin).status_code == 422
        made = client.post("/api/admin/users", headers=admin, json={
            "username": "lawyer2", "password": "Yellow-River-42-bridge", "role": "lawyer", "interface": "PJSIP/2002",
            "node": "pbx-b"})  # fmt: skip
        assert made.status_code == 201 and made.json()["node"] == "pbx-b"
        assert client.patch("/api/admin/users/lawyer1", json={"node": ""}, headers=admin).json()["node"] is None
        assert softphone()["node"] == "pbx-a"
        audit = [(a["action"], a["details"]) for a in client.get("/api/admin/audit", headers=admin).json()]
        assert ("node_change", {"before": "pbx-b", "after": None}) in audit
        assert ("node_change", {"before": None, "after": "pbx-b"}) in audit
