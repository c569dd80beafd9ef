"""FastAGI IVR under load: concurrent AGI sessions through a three-level menu.

    .venv/bin/python scripts/bench_ivr.py [--sessions 500] [--delay-ms 250] [--ramp-s 2] [--url postgresql://…/scratch]

The IVR server runs in its own process (as it does beside the bridge), on the real database
(a scratch SQLite file by default, or the PostgreSQL given by --url: its ivr_sessions rows are
emptied first) and a real Redis (embedded, or --redis). This process plays Asterisk: N simulated
sessions connect at once and go language (1) → main menu (1, 法律咨询) → topic (2, 劳动争议) → the
labour queue, with live queue state in Redis so the position and wait are announced.

Two runs:
- "burst": all sessions connect at the same instant and every command is answered at once: the
  most sessions per second the server takes. Its per-command times are mostly queueing behind the
  other 499 sessions on a saturated event loop.
- "steady": sessions start spread over --ramp-s seconds and each command that plays or listens is
  answered after --delay-ms (a short prompt; real ones last seconds), so all sessions are in the
  menus together, as on a PBX with that many callers in the IVR. This is the per-command figure.

Reported: sessions per second, sessions that did not reach the queue (must be 0), and the time the
server adds per AGI command, p50/p99/max, measured inside the server (last line read → next
command written) and from this side (response written → next command read, loopback included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

NOW_EPOCH = 1_795_500_000.0  # a Tuesday 10:00-ish in Asia/Shanghai: every queue open


def serve(conn: Connection, data_dir: str, url: str | None, redis_url: str | None) -> None:
    """The server process: build the service, listen, report the port, serve until told to stop."""
    import logging
    from datetime import UTC, datetime

    from sqlalchemy import delete

    from hotline.bootstrap import build_context
    from ivr.app import start_ivr_server
    from ivr.waiting import LIVE_QUEUES_KEY
    from settings.env import Settings
    from storage.migrate import upgrade
    from storage.tables import IvrSession

    logging.basicConfig(level=logging.WARNING)
    context = build_context(
        Settings(data_dir=Path(data_dir), config_dir=Path("config"), database_url=url, redis_url=redis_url)
    )
    upgrade(context.engine)
    with context.sessions.begin() as session:
        session.execute(delete(IvrSession))
    state = {
        "queue": "labour",
        "waiting": 4,
        "oldest_joined_at": NOW_EPOCH - 90,
        "members_on_duty": 3,
        "members_available": 0,
        "members_paused": 0,
        "talking": 3,
        "avg_handle_s": 45.0,
        "updated_at": NOW_EPOCH,
    }
    context.redis.client.hset(LIVE_QUEUES_KEY, "labour", json.dumps(state))
    now = datetime.fromtimestamp(NOW_EPOCH, UTC)

    async def main() -> None:
        server = await start_ivr_server(context, "127.0.0.1", 0, clock=lambda: now)
        conn.send(server.address[1])
        loop = asyncio.get_running_loop()
        while True:
            message = await loop.run_in_executor(None, conn.recv)
            if message == "stats":
                conn.send(server.stats.summary())
                server.stats.command_seconds.clear()
                server.stats.commands = server.stats.sessions = 0
            else:
                break
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    context.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run_sessions(port: int, count: int, delay_s: float, offset: int, ramp_s: float = 0.0) -> dict[str, Any]:
    from ivr.asterisk_sim import SimulatedCall, make_env

    calls = [
        SimulatedCall(
            make_env(uniqueid=f"{NOW_EPOCH:.0f}.{offset + i}", callerid=f"139{offset + i:08d}"),
            actions=["1", "1", "2"],
            media_delay_s=delay_s,
        )
        for i in range(count)
    ]

    async def start(i: int, simulated: SimulatedCall) -> SimulatedCall:
        await asyncio.sleep(ramp_s * i / count)
        return await simulated.run("127.0.0.1", port, timeout=120)

    started = time.perf_counter()
    results = await asyncio.gather(*(start(i, c) for i, c in enumerate(calls)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    peak = _peak_concurrency(calls)
    failed = [r for r in results if isinstance(r, BaseException)]
    reached = sum(1 for c in calls if c.variables.get("HOTLINE_QUEUE") == "labour")
    client = [e.server_seconds for c in calls for e in c.exchanges[1:]]  # the first includes connecting
    return {
        "sessions": count,
        "reached_queue": reached,
        "dropped": count - reached,
        "errors": [repr(f) for f in failed[:3]],
        "seconds": elapsed,
        "sessions_per_s": count / elapsed,
        "peak_concurrent": peak,
        "commands_per_session": statistics.mean(len(c.exchanges) for c in calls),
        "client_p50_ms": percentile(client, 50) * 1000,
        "client_p99_ms": percentile(client, 99) * 1000,
    }


def _peak_concurrency(calls: list[Any]) -> int:
    """Most sessions open at the same time (connection opened to connection closed by the server)."""
    edges = []
    for simulated in calls:
        if simulated.started_at is not None and simulated.ended_at is not None:
            edges += [(simulated.started_at, 1), (simulated.ended_at, -1)]
    level = peak = 0
    for _, step in sorted(edges):
        level += step
        peak = max(peak, level)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--delay-ms", type=float, default=250.0, help="answer delay of the steady run")
    parser.add_argument("--ramp-s", type=float, default=2.0, help="start sessions over this long (steady run)")
    parser.add_argument("--url", help="PostgreSQL scratch database (default: a temporary SQLite file)")
    parser.add_argument("--redis", help="Redis URL (default: embedded)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(theirs, data_dir, args.url, args.redis), daemon=True
        )
        server.start()
        port = ours.recv()
        asyncio.run(run_sessions(port, 20, 0, 10_000_000))  # warm-up: connections, caches
        ours.send("stats")
        ours.recv()
        rows = []
        runs = (("burst", 0.0, 0, 0.0), ("steady", args.delay_ms / 1000, 1_000_000, args.ramp_s))
        for name, delay, offset, ramp in runs:
            result = asyncio.run(run_sessions(port, args.sessions, delay, offset, ramp))
            ours.send("stats")
            result["server"] = ours.recv()
            rows.append((name, result))
        ours.send("stop")
        server.join(timeout=60)

    backend = "PostgreSQL" if args.url else "SQLite"
    print(f"{args.sessions} concurrent sessions, three-level menu, {backend}, server in its own process")
    print("run     sessions/s  peak open  dropped  cmds/session  server p50/p99/max ms   client p50/p99 ms   wall s")
    for name, r in rows:
        s = r["server"]
        print(
            f"{name:7} {r['sessions_per_s']:10.0f}  {r['peak_concurrent']:9d}  {r['dropped']:7d}"
            f"  {r['commands_per_session']:12.1f}"
            f"  {s['p50_ms']:6.3f} / {s['p99_ms']:6.3f} / {s['max_ms']:7.2f}"
            f"   {r['client_p50_ms']:6.2f} / {r['client_p99_ms']:7.2f}   {r['seconds']:6.2f}"
        )
        if r["errors"]:
            print("  errors:", r["errors"])


if __name__ == "__main__":
    main()
