# ruff: noqa: E501
"""Province-scale load test, scaled to a 2-core machine shared with other work (loopback only, bounded).

    .venv/bin/python scripts/bench_province.py --db-url postgresql://postgres@127.0.0.1:5432/test_bench \
        --redis-url redis://127.0.0.1:6379/12 [--calls 2000] [--seats 100] [--in-progress 50] [--sse 50] \
        [--api-processes 2] [--api-seconds 20]

What runs: two Asterisk simulators (in this process), two bridges (HOTLINE_NODE pbx-a and pbx-b, each
its own process), N API processes (`hotline serve --no-bridge --no-worker --no-scheduler`), SSE clients
on /api/feed and API clients, all on 127.0.0.1. The calls of the last hours are played into both
simulators at once (their event times spread over two hours: an hour's traffic compressed into
seconds), then `--in-progress` callers join queues live. Reported: call rows written / calls placed,
the hourly rollup against a recount from the rows, event → wallboard (simulator send → SSE client
receipt) p50/p99, API p50/p99 per endpoint, CPU seconds and peak memory per process.

The issue's full figures (200 seats, 10,000 calls, 3,000 tickets, 200 SSE clients, 4 API processes,
4 workers) do not fit two shared cores in minutes; defaults are scaled down and printed with the
results. Tickets and job workers are not exercised here (see BENCHMARKS.md). The database given is
WIPED: its name must start with test or bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hotline.ami.sim_calls import CallFactory, Event, Member  # noqa: E402
from hotline.ami.sim_queues import SimQueues  # noqa: E402
from hotline.ami.simulator import AmiSimulator  # noqa: E402

NODES = ("pbx-a", "pbx-b")
QUEUES = ["consult", "labour", "family", "legal-aid"]
THRESHOLD = 20

BRIDGE = """
import asyncio, os, sys
from hotline.bootstrap import build_context
from hotline.bridge.service import Bridge, BridgeOptions
from hotline.redis_conn import async_redis_client
context = build_context()
async def main():
    client = async_redis_client(context.redis.url)
    options = BridgeOptions("127.0.0.1", int(sys.argv[1]), "hotline", "hotline-secret", node=sys.argv[2],
                            wrapup_s=10.0, sl_threshold_s=int(sys.argv[3]))
    await Bridge(options, context.sessions, client).run()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def same_kpis(rollup: list[dict[str, Any]], recount: list[dict[str, Any]]) -> bool:
    """Counts equal exactly; sums of seconds equal up to float summation order (1e-9 relative)."""
    if len(rollup) != len(recount):
        return False
    for a, b in zip(rollup, recount, strict=True):
        for key, value in a.items():
            other = b[key]
            if isinstance(value, float) and isinstance(other, float):
                if abs(value - other) > 1e-9 * max(1.0, abs(value)):
                    return False
            elif value != other:
                return False
    return True


def proc_usage(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and peak resident memory in MB of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return cpu, peak / 1024


def prepare(env: dict[str, str]) -> None:
    from hotline.accounts import create_user
    from hotline.bootstrap import build_context
    from storage.migrate import upgrade
    from storage.tables import Base
    from ticketing.domain.roles import Role
    from ticketing.stations import import_stations

    context = build_context()
    with context.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(context.engine)
    context.redis.client.flushdb()
    with context.sessions.begin() as session:
        import_stations(session, context.config.stations.root)
        create_user(session, "bench-supervisor", "bench-password-123", Role.SUPERVISOR, "督导")
    context.close()


def plan_calls(
    factory: CallFactory, members: list[Member], count: int, base: float, seed: int
) -> tuple[list[Event], list[dict[str, Any]]]:
    import random

    rnd = random.Random(seed)
    events: list[Event] = []
    placed = []
    span = 7200.0
    for i in range(count):
        at = base + span * i / count
        queue = QUEUES[i % len(QUEUES)]
        caller = f"13{rnd.randrange(10**9):09d}"
        wait = rnd.choice((3.0, 8.0, 15.0, 25.0, 40.0, 90.0))
        if rnd.random() < 0.85:
            member = members[i % len(members)]
            events += factory.answered(caller, queue, member, at, wait_s=wait, talk_s=rnd.uniform(60, 300))
            placed.append({"queue": queue, "answered": True, "wait": wait})
        else:
            events += factory.abandoned(caller, queue, at, wait_s=wait)
            placed.append({"queue": queue, "answered": False, "wait": wait})
    return sorted(events, key=lambda e: e[0]), placed


def linkedid_of(raw: bytes) -> str | None:
    for line in raw.decode().split("\r\n"):
        if line.startswith("Linkedid: "):
            return line.removeprefix("Linkedid: ")
    return None


def sse_client(url: str, cookies: dict[str, str], seen: dict[str, float], stop: threading.Event) -> None:
    with (
        httpx.Client(cookies=cookies, timeout=httpx.Timeout(5.0, read=30.0)) as client,
        client.stream("GET", f"{url}/api/feed") as response,
    ):
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data:"):
                try:
                    entry = json.loads(line[5:])
                except ValueError:
                    continue
                linkedid = entry.get("linkedid") if isinstance(entry, dict) else None
                if linkedid and linkedid not in seen:
                    seen[linkedid] = time.time()


async def read_feed(url: str, seen: dict[str, float]) -> None:
    """First time each Linkedid appears on the feed stream, read as the consoles' feed reads it."""
    from hotline.redis_conn import aclose_client, async_redis_client

    client = async_redis_client(url)
    last = "$"
    try:
        while True:
            found = await client.xread({"hotline:feed": last}, block=1000, count=500)
            now = time.time()
            for _stream, entries in found or []:
                for raw_id, fields in entries:
                    last = raw_id.decode()
                    entry = json.loads(fields.get(b"data", b"{}"))
                    linkedid = entry.get("linkedid")
                    if linkedid and linkedid not in seen:
                        seen[linkedid] = now
    finally:
        await aclose_client(client)


def api_client(urls: list[str], cookies: dict[str, str], until: float, timings: dict[str, list[float]]) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    endpoints = {
        "GET /api/live": "/api/live",
        "GET /api/kpi": f"/api/kpi?start={today - timedelta(days=1)}&end={today}&by_queue=true",
        "GET /api/calls": "/api/calls?limit=50",
        "GET /metrics": "/metrics",
        "GET /api/health": "/api/health",
    }
    clients = [httpx.Client(base_url=u, cookies=cookies, timeout=30.0) for u in urls]
    i = 0
    while time.time() < until:
        for name, path in endpoints.items():
            client = clients[i % len(clients)]
            i += 1
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            if response.status_code < 500:
                timings.setdefault(name, []).append(elapsed)
            else:
                timings.setdefault(name + " (errors)", []).append(elapsed)
    for client in clients:
        client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--calls", type=int, default=2000, help="calls placed in all (split over the two nodes)")
    parser.add_argument("--seats", type=int, default=100, help="lawyer seats in all")
    parser.add_argument("--in-progress", type=int, default=50, help="callers waiting live at the end")
    parser.add_argument("--sse", type=int, default=50, help="SSE clients on /api/feed")
    parser.add_argument("--api-processes", type=int, default=2)
    parser.add_argument("--api-seconds", type=float, default=20.0)
    args = parser.parse_args()
    name = make_url(args.db_url).database or ""
    if not (name.startswith("test") or name.startswith("bench")):
        sys.exit(f"refusing to wipe database {name!r}: use one whose name starts with test or bench")
    env = {**os.environ, "HOTLINE_DATABASE_URL": args.db_url, "HOTLINE_REDIS_URL": args.redis_url,
           "HOTLINE_CONFIG_DIR": str(REPO / "config"), "HOTLINE_DATA_DIR": "/tmp/hotline-bench-province"}  # fmt: skip
    os.environ.update(env)
    prepare(env)

    simulators = {n: AmiSimulator(handlers=[SimQueues(QUEUES)]) for n in NODES}
    ports = {n: (await s.start("127.0.0.1", 0))[1] for n, s in simulators.items()}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for node in NODES:
        processes[f"bridge {node}"] = subprocess.Popen(
            [sys.executable, "-c", BRIDGE, str(ports[node]), node, str(THRESHOLD)], env={**env, "HOTLINE_NODE": node}, cwd=REPO,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
    api_urls = []
    for i in range(args.api_processes):
        port = free_port()
        api_urls.append(f"http://127.0.0.1:{port}")
        processes[f"api {i + 1}"] = subprocess.Popen(
            [str(REPO / ".venv/bin/hotline"), "serve", "--no-bridge", "--no-worker", "--no-scheduler",
             "--port", str(port)], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.time() + 120
        for url in api_urls:
            while True:
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline:
                    sys.exit(f"API {url} did not start")
                await asyncio.sleep(0.5)
        while any(s.logged_in_clients < 1 for s in simulators.values()):
            if time.time() > deadline:
                sys.exit("bridges did not connect")
            await asyncio.sleep(0.2)
        login = httpx.post(f"{api_urls[0]}/api/auth/login",
                           json={"username": "bench-supervisor", "password": "bench-password-123"})  # fmt: skip
        login.raise_for_status()
        cookies = dict(login.cookies)

        seen: dict[str, float] = {}
        stop = threading.Event()
        in_redis: dict[str, float] = {}
        feed_reader = asyncio.create_task(read_feed(args.redis_url, in_redis))
        sse = [threading.Thread(target=sse_client, args=(api_urls[i % len(api_urls)], cookies, seen, stop),
                                daemon=True) for i in range(args.sse)]  # fmt: skip
        for thread in sse:
            thread.start()
        await asyncio.sleep(2)

        base_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
        sent_at: dict[str, float] = {}
        placed_all = []
        per_node = args.calls // len(NODES)
        streams = {}
        for index, node in enumerate(NODES):
            factory = CallFactory(first_sequence=1000 + index * 1_000_000)
            members = [Member(f"PJSIP/{index + 1}{s:03d}", f"律师{s}") for s in range(args.seats // len(NODES))]
            seat_events = [
                e for i, m in enumerate(members) for e in factory.member_added(QUEUES[i % len(QUEUES)], m, time.time())
            ]
            events, placed = plan_calls(factory, members, per_node, base_hour.timestamp() + 60, seed=index)
            live = []
            for k in range(args.in_progress // len(NODES)):
                call = factory.abandoned(f"1390000{index}{k:03d}", QUEUES[k % len(QUEUES)], time.time(), wait_s=3600)
                joined = next(i for i, e in enumerate(call) if b"Event: QueueCallerJoin" in e[1])
                live.append(call[: joined + 1])
            streams[node] = (seat_events, events, live)
            placed_all += placed

        async def play(node: str) -> None:
            simulator = simulators[node]
            seat_events, events, _live = streams[node]
            for _, raw in seat_events:
                await simulator.send_event(raw)
            for n, (_, raw) in enumerate(events):
                if b"Event: Newchannel" in raw:
                    linkedid = linkedid_of(raw)
                    if linkedid and linkedid not in sent_at:
                        sent_at[linkedid] = time.time()
                await simulator.send_event(raw)
                if n % 200 == 0:
                    await asyncio.sleep(0)  # let the bridges read

        started = time.time()
        await asyncio.gather(*(play(node) for node in NODES))
        played = time.time() - started

        from hotline.bootstrap import build_context
        from hotline.reports.kpi import compute_kpis
        from storage.tables import Call

        context = build_context()

        def rows_done() -> int:
            with context.sessions() as session:
                return int(
                    session.scalar(select(func.count()).select_from(Call).where(Call.outcome != "in_progress")) or 0
                )

        while rows_done() < per_node * len(NODES) and time.time() - started < 600:
            await asyncio.sleep(0.5)
        written_s = time.time() - started
        burst = [seen[k] - sent_at[k] for k in sent_at if k in seen]

        # Steady state: callers joining one at a time (both nodes), each timed to the SSE clients.
        live_sent: dict[str, float] = {}
        for k in range(max(len(streams[n][2]) for n in NODES)):
            for node in NODES:
                calls = streams[node][2]
                if k < len(calls):
                    live_sent[linkedid_of(calls[k][0][1]) or ""] = time.time()
                    for _, raw in calls[k]:
                        await simulators[node].send_event(raw)
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)

        timings: dict[str, list[float]] = {}
        api_until = time.time() + args.api_seconds
        api_threads = [
            threading.Thread(target=api_client, args=(api_urls, cookies, api_until, timings)) for _ in range(4)
        ]
        for thread in api_threads:
            thread.start()
        while any(t.is_alive() for t in api_threads):
            await asyncio.sleep(0.2)
        stop.set()

        with context.sessions() as session:
            rows = int(session.scalar(select(func.count()).select_from(Call).where(Call.outcome != "in_progress")) or 0)
            live_rows = int(
                session.scalar(select(func.count()).select_from(Call).where(Call.outcome == "in_progress")) or 0
            )
            window = (base_hour, base_hour + timedelta(hours=3))
            kw = {"threshold_s": THRESHOLD, "tz": ZoneInfo("Asia/Shanghai"), "by_queue": True}
            rollup = [r.report() for r in compute_kpis(session, *window, rollup_threshold_s=THRESHOLD, **kw)]  # type: ignore[arg-type]
            recount = [r.report() for r in compute_kpis(session, *window, rollup_threshold_s=None, **kw)]  # type: ignore[arg-type]
        context.close()
        latencies = [seen[k] - live_sent[k] for k in live_sent if k in seen]
        feed_reader.cancel()
        to_redis = [in_redis[k] - live_sent[k] for k in live_sent if k in in_redis]
        usage = {name: proc_usage(p.pid) for name, p in processes.items()}
        usage["simulators + clients (this process)"] = proc_usage(os.getpid())

        offered = sum(r["offered"] for r in rollup)
        print(f"machine: {os.cpu_count()} cores, shared with other work; loopback only")
        print(f"scale: {args.calls} calls over 2 nodes ({per_node} each, two hours of traffic), {args.seats} seats, "
              f"{args.in_progress} callers waiting live, {args.sse} SSE clients, {args.api_processes} API processes")  # fmt: skip
        print(f"played in {played:.1f} s; all rows written {written_s:.1f} s after the first event")
        print(
            f"call rows written / calls placed: {rows} / {len(placed_all)} (+{live_rows} in progress of {args.in_progress})"
        )
        print(f"KPI rollup == recount from rows: {same_kpis(rollup, recount)} (offered {offered}, "
              f"answered {sum(r['answered'] for r in rollup)}, abandoned {sum(r['abandoned'] for r in rollup)})")  # fmt: skip
        print(f"event -> feed stream in Redis (simulator send -> XREAD by this process), callers joining live, "
              f"{len(to_redis)} of {len(live_sent)}: p50 {percentile(to_redis, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(to_redis, 0.99) * 1000:.0f} ms")  # fmt: skip
        print(f"event -> wallboard during the burst (backlog included), {len(burst)} calls: "
              f"p50 {percentile(burst, 0.5) * 1000:.0f} ms, p99 {percentile(burst, 0.99) * 1000:.0f} ms")  # fmt: skip
        print(f"event -> wallboard, callers joining live (simulator send -> SSE receipt), {len(latencies)} of {len(live_sent)}: "
              f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms")  # fmt: skip
        for endpoint, values in sorted(timings.items()):
            print(f"  {endpoint}: {len(values)} requests, p50 {statistics.median(values) * 1000:.1f} ms, "
                  f"p99 {percentile(values, 0.99) * 1000:.1f} ms")  # fmt: skip
        for name_, (cpu, peak) in usage.items():
            print(f"  {name_}: CPU {cpu:.1f} s, peak RSS {peak:.0f} MB")
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for simulator in simulators.values():
            await simulator.close()


if __name__ == "__main__":
    asyncio.run(main())
