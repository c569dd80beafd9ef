"""Console pages' server time at provincial scale, and the wallboard's feed with 50 browsers.

    .venv/bin/python scripts/bench_consoles.py pages [--tickets 100000] [--calls 1000000]
        [--url postgresql://postgres@127.0.0.1:5432/bench_consoles]
    .venv/bin/python scripts/bench_consoles.py wallboard [--browsers 50] [--rate 20] [--seconds 10]
        [--redis redis://127.0.0.1:6379/14]

`pages` empties and fills a scratch PostgreSQL database (point it at one) with synthetic calls over
the last 12 months (with their IVR sessions and the hourly KPI rollup), callers, tickets and
call-back tasks, then times every API request each console makes when it opens, through the real
application (in-process ASGI, so it is server time: routing, auth, SQL, JSON), median and worst of 5.

`wallboard` serves the app with uvicorn, opens N server-sent-event streams on /api/feed as a
supervisor, appends entries to the Redis feed stream at the given rate, and reports how long each
entry took from XADD to each browser (p50, p99, max), with the server's CPU time per entry.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")

FILL_CALLS = """
INSERT INTO calls (linkedid, direction, caller_id, caller_number, queue, agent_interface, started_at, offered_at,
                   answered_at, ended_at, wait_seconds, talk_seconds, wrapup_seconds, outcome, in_hours,
                   ivr_path, recording_paths, survey_score)
SELECT 'b' || n, 'inbound', 1 + n % 200000, '138' || lpad((n % 200000)::text, 8, '0'),
       (ARRAY['consult','family','labour','zonghe','legal-aid'])[1 + n % 5],
       CASE WHEN n % 10 < 8 THEN 'PJSIP/100' || (1 + n % 2) END,
       t, t + interval '10 seconds',
       CASE WHEN n % 10 < 8 THEN t + interval '10 seconds' + (n % 60) * interval '1 second' END,
       t + interval '5 minutes', (n % 60), CASE WHEN n % 10 < 8 THEN 120 + n % 200 END, 10,
       CASE WHEN n % 10 < 8 THEN 'answered' ELSE 'abandoned' END, true,
       '[{"node": "main", "key": "1", "seconds": 4.0}]', '[]', CASE WHEN n % 7 = 0 THEN 1 + n % 5 END
FROM (SELECT n, now() - (n * interval '1 second') * (365 * 86400.0 / :rows) AS t
      FROM generate_series(1, :rows) AS n) AS g
"""
FILL_IVR = """
INSERT INTO ivr_sessions (uniqueid, caller_number, started_at, path, exit, flags, priority)
SELECT 'b' || n, '138' || lpad((n % 200000)::text, 8, '0'),
       now() - (n * interval '1 second') * (365 * 86400.0 / :rows),
       CASE WHEN n % 9 = 0 THEN '[{"node": "main"}, {"node": "topics"}]'::json
            ELSE '[{"node": "main", "key": "1"}]'::json END,
       CASE WHEN n % 9 = 0 THEN 'hangup' ELSE 'queue:consult' END, '[]', 0
FROM generate_series(1, :rows) AS n
"""
FILL_CALLERS = """
INSERT INTO callers (number, groups, call_count, first_seen_at, last_seen_at)
SELECT '138' || lpad(n::text, 8, '0'), CASE WHEN n % 20 = 0 THEN '["elderly"]'::json ELSE '[]'::json END,
       5, now() - interval '1 year', now()
FROM generate_series(0, 199999) AS n
"""
FILL_TICKETS = """
INSERT INTO tickets (code, channel, status, caller_id, caller_number, description, category, priority, flags,
                     station_id, accept_due_at, finish_due_at, assigned_lawyer_id, created_by_id,
                     created_at, updated_at, version)
SELECT '12348-20250101-' || lpad(n::text, 6, '0'), 'phone',
       (ARRAY['forwarded','received','in_progress','closed','followed_up','closed','followed_up','accepted'])
         [1 + n % 8],
       1 + n % 200000, '138' || lpad((n % 200000)::text, 8, '0'), '咨询问题，具体情况' || repeat('如下', n % 5),
       (ARRAY['劳动争议','婚姻家庭','债权债务','交通事故'])[1 + n % 4], 'normal', '[]',
       s.ids[1 + n % array_length(s.ids, 1)], t + interval '1 day', t + interval '5 days',
       :lawyer, :lawyer, t, t, 1
FROM (SELECT n, now() - (n * interval '1 second') * (365 * 86400.0 / :rows) AS t
      FROM generate_series(1, :rows) AS n) AS g
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM stations) AS s
"""
FILL_TASKS = """
INSERT INTO callback_tasks (ticket_id, due_date, status, assigned_lawyer_id, satisfaction, created_at,
                            completed_at, version)
SELECT id, (created_at + interval '3 days')::date,
       CASE WHEN status = 'followed_up' THEN 'reached' ELSE 'pending' END, assigned_lawyer_id,
       CASE WHEN status = 'followed_up' THEN 'satisfied' END, created_at,
       CASE WHEN status = 'followed_up' THEN created_at + interval '2 days' END, 1
FROM tickets WHERE status IN ('closed', 'followed_up')
"""


def _context(url: str, redis_url: str | None, data_dir: Path) -> Any:
    from hotline.bootstrap import build_context
    from settings.env import Settings

    settings = Settings(database_url=url, redis_url=redis_url, data_dir=data_dir, config_dir=REPO / "config")
    return build_context(settings)


def fill(context: Any, tickets: int, calls: int) -> None:
    from hotline.demo import load_demo_users
    from hotline.reports.kpi import rebuild
    from storage.migrate import upgrade
    from storage.tables import Base, User
    from ticketing.stations import import_stations

    with context.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(context.engine)
    with context.sessions.begin() as session:
        import_stations(session, context.config.stations.root)
        load_demo_users(session)
        session.flush()
        lawyer = session.query(User.id).filter(User.username == "lawyer1").scalar()
    started = time.perf_counter()
    with context.engine.begin() as connection:
        connection.execute(text(FILL_CALLERS))  # ids 1..200000, in number order
        connection.execute(text(FILL_CALLS), {"rows": calls})
        connection.execute(text(FILL_IVR), {"rows": calls})
        connection.execute(text(FILL_TICKETS), {"rows": tickets, "lawyer": lawyer})
        connection.execute(text(FILL_TASKS))
    with context.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    now = datetime.now(UTC)
    with context.sessions.begin() as session:
        rebuild(session, now - timedelta(days=366), now + timedelta(hours=1), context.settings.sl_threshold_seconds)
    print(f"filled {calls} calls and IVR sessions, {tickets} tickets in {time.perf_counter() - started:.0f} s")


def pages(args: argparse.Namespace) -> None:
    from fastapi.testclient import TestClient

    from hotline.app import create_app
    from hotline.demo import DEMO_USERS
    from hotline.live.publisher import CALLS_KEY

    with TemporaryDirectory() as tmp:
        context = _context(args.url, None, Path(tmp))
        if not args.keep:
            fill(context, args.tickets, args.calls)
        passwords = {u.username: u.password for u in DEMO_USERS}
        today = datetime.now(TZ).date()
        month = today.replace(day=1)
        # A call ringing the lawyer now, from a caller with a year of history.
        number = "13800000042"
        now = time.time()
        live = {"linkedid": "bench.1", "caller_number": number, "state": "talking", "queue": "consult",
                "offered_at": now - 20, "answered_at": now, "agent_interface": "PJSIP/1001"}  # fmt: skip
        context.redis.client.hset(CALLS_KEY, "bench.1", json.dumps(live))
        period = f"start={month}&end={today}"
        requests = {
            "lawyer1": ["/console", "/api/auth/me", "/api/console/me", "/api/console/options", "/api/categories",
                        "/api/stations", "/api/callbacks?state=open&page_size=100", "/api/tickets?page_size=30",
                        "/api/console/calls/bench.1"],
            "supervisor": ["/dashboard", "/api/live", f"/api/kpi?{period}", f"/api/kpi?{period}&granularity=day",
                           f"/api/kpi?{period}&by_queue=true", f"/api/dashboard/ivr-dropouts?{period}",
                           f"/api/statistics/topics?{period}&granularity=day", f"/api/callbacks/sla?{period}",
                           f"/api/dashboard/satisfaction?{period}", "/api/dashboard/backlog",
                           "/api/supervision/overdue?page_size=50", "/api/audit/views?limit=20",
                           "/api/statistics/exports?limit=20", f"/api/statistics/hot-topics?month={month:%Y-%m}",
                           f"/api/dashboard/kpi?{period}&by_queue=true&format=xlsx"],
            "county": ["/station", "/api/forwarding/inbox?page_size=200", "/api/tickets/12348-20250101-000008"],
        }  # fmt: skip
        worst = 0.0
        with TestClient(create_app(context)) as client:
            for user, paths in requests.items():
                login = client.post("/api/auth/login", json={"username": user, "password": passwords[user]})
                headers = {"Authorization": f"Bearer {login.json()['token']}"}
                for path in paths:
                    times = []
                    for _ in range(5):
                        started = time.perf_counter()
                        response = client.get(path, headers=headers)
                        times.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200, (path, response.status_code, response.text[:200])
                    worst = max(worst, max(times))
                    print(f"{user:<10} {path:<70} median {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms")
        print(f"slowest single request: {worst:.0f} ms (target 300 ms)")
        context.close()


async def _browsers(url: str, token: str, n: int, received: list[list[float]], ready: asyncio.Event) -> None:
    import httpx2 as httpx

    connected = 0

    async def one(index: int) -> None:
        nonlocal connected
        async with (
            httpx.AsyncClient(timeout=None) as client,
            client.stream("GET", f"{url}/api/feed", headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            async for line in response.aiter_lines():
                if line.startswith("event: snapshot"):
                    connected += 1
                    if connected == n:
                        ready.set()
                elif line.startswith("data: ") and '"bench"' in line:
                    entry = json.loads(line[6:])
                    received[index].append(time.time() - entry["sent"])

    await asyncio.gather(*(one(i) for i in range(n)))


def wallboard(args: argparse.Namespace) -> None:
    import redis
    import uvicorn

    from hotline.app import create_app
    from hotline.demo import DEMO_USERS, load_demo_users
    from hotline.live.feed import FEED_STREAM
    from storage.migrate import upgrade
    from ticketing.stations import import_stations

    with TemporaryDirectory() as tmp:
        context = _context(f"sqlite:///{tmp}/bench.db", args.redis, Path(tmp))
        upgrade(context.engine)
        with context.sessions.begin() as session:
            import_stations(session, context.config.stations.root)
            load_demo_users(session)
        app = create_app(context)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning",
                                               timeout_graceful_shutdown=1))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{args.port}"
        import httpx2 as httpx

        password = next(u.password for u in DEMO_USERS if u.username == "supervisor")
        token = httpx.post(f"{url}/api/auth/login", json={"username": "supervisor", "password": password}).json()[
            "token"
        ]
        received: list[list[float]] = [[] for _ in range(args.browsers)]
        writer = redis.Redis.from_url(context.redis.url)
        total = int(args.rate * args.seconds)

        async def run() -> float:
            ready = asyncio.Event()
            task = asyncio.create_task(_browsers(url, token, args.browsers, received, ready))
            await asyncio.wait_for(ready.wait(), 60)
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            before = cpu.ru_utime + cpu.ru_stime
            for i in range(total):
                entry = {"type": "queue", "queue": "consult", "waiting": i % 5, "bench": True, "sent": time.time()}
                writer.xadd(FEED_STREAM, {"data": json.dumps(entry)}, maxlen=10_000, approximate=True)
                await asyncio.sleep(1 / args.rate)
            await asyncio.sleep(2)
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return cpu.ru_utime + cpu.ru_stime - before

        used = asyncio.run(run())
        server.should_exit = True
        thread.join(timeout=10)
        lags = sorted(x * 1000 for each in received for x in each)
        got = sum(len(each) for each in received)
        print(f"{args.browsers} browsers, {total} entries at {args.rate}/s: {got} of {total * args.browsers} delivered")
        print(f"latency XADD -> browser: p50 {lags[len(lags) // 2]:.1f} ms, p99 {lags[int(len(lags) * 0.99)]:.1f} ms, "
              f"max {lags[-1]:.1f} ms; CPU (server and clients, one process) {used:.1f} s")  # fmt: skip
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pages")
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--calls", type=int, default=1_000_000)
    p.add_argument(
        "--url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_consoles")
    )
    p.add_argument("--keep", action="store_true", help="reuse the rows of a previous run")
    w = sub.add_parser("wallboard")
    w.add_argument("--browsers", type=int, default=50)
    w.add_argument("--rate", type=float, default=20)
    w.add_argument("--seconds", type=float, default=10)
    w.add_argument("--port", type=int, default=18765)
    w.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    {"pages": pages, "wallboard": wallboard}[args.command](args)


if __name__ == "__main__":
    main()
