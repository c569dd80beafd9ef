"""Two Asterisk nodes: two simulators, two bridges, one database and one Redis.

Both simulators hand out the same Linkedids (their Uniqueid counters start alike, as two Asterisks
without `systemname` would): the rows stay apart by node. The bridges write at the same time; every
call is a row, the hourly rollup equals a recount from the rows and the totals planned here, callers
seen on both nodes are counted twice, the wallboard merges both nodes, and a lawyer's action goes to
the node where the lawyer's phone is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from sqlalchemy import func, select

from hotline.ami.sim_calls import CallFactory, Event, Member
from hotline.ami.sim_queues import SimQueues
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge.service import Bridge, BridgeOptions
from hotline.bridge_client import RoutedBridgeClient
from hotline.live.nodes import merged_state
from hotline.live.publisher import live_keys
from hotline.reports.kpi import compute_kpis
from ivr.waiting import live_queues_key
from storage.tables import Call, Caller

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
async def node(context: Context, name: str) -> AsyncIterator[tuple[AmiSimulator, Bridge]]:
    simulator = AmiSimulator(handlers=[SimQueues(QUEUES)])
    host, port = await simulator.start()
    client = aioredis.Redis.from_url(context.redis.url)
    options = BridgeOptions(host, port, "hotline", "hotline-secret", node=name, ping_interval_s=0.5,
                            backoff_initial_s=0.05, wrapup_s=10.0, sl_threshold_s=THRESHOLD)  # fmt: skip
    bridge = Bridge(options, context.sessions, client)
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
