# ruff: noqa: E501
"""Province-scale load test (loopback only, bounded): two Asterisk nodes, the whole service behind nginx.

    flock /work/bench.lock .venv/bin/python scripts/bench_province.py \\
        --db-url postgresql://postgres@127.0.0.1:5432/bench_province --redis-url redis://127.0.0.1:6379/7 \\
        [--calls 10000] [--tickets 3000] [--seats 200] [--in-progress 50] [--sse 200] [--sse-processes 2] \\
        [--api-processes 4] [--workers 4] [--minutes 5] [--port 21743]

What runs, all on 127.0.0.1, each role its own process as deploy/ runs them:
- two AMI simulators (in this process) and two bridges (HOTLINE_NODE pbx-a / pbx-b, HOTLINE_NODES
  pbx-a,pbx-b), each with its roster loop: `--seats` lawyers on duty all day, half on each node
  (users.node; a quarter without a node, so they belong to the first), seated by the bridges;
- `--api-processes` API processes (`hotline serve --no-bridge --no-worker --no-scheduler --no-relay`)
  behind nginx running the shipped site (deploy/nginx/hotline.conf, TLS included);
- one worker pool of `--workers` processes (`hotline worker --processes N`) and one outbox relay
  (`hotline relay`, as deploy/systemd/hotline-relay.service);
- `--sse` console feeds (GET /api/feed as a supervisor, through nginx) held by `--sse-processes`
  asyncio processes reading raw TLS streams, so the clients keep up with the feed;
- one load process: the consoles' API reads (4 threads, each a request every 0.2 s) and `--tickets`
  tickets created through POST /api/tickets, spread over the run.

The `--calls` calls are an hour of traffic on both nodes (waits both sides of the 20 s threshold,
answered and abandoned), played in real time compressed into `--minutes`; `--in-progress` callers
join the queues first and wait throughout. Reported: lawyers seated per node, call rows written /
calls placed, the hourly rollup against a recount from the rows, event → console p50/p99 (the
simulator sending a call's first event → each SSE client receiving that call's first feed entry: an
upper bound for the event that made the entry, which may be a later one of the same call),
API p50/p99 per endpoint, job queue age (the oldest waiting job, sampled every 0.5 s; and each
routing job's enqueued → started), tickets routed, CPU seconds and peak memory per process. The
database given is WIPED: its name must start with test or bench; the Redis db is flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _questions import TEXTS  # noqa: E402

NODES = ("pbx-a", "pbx-b")
QUEUES = ["consult", "labour", "family", "legal-aid"]
THRESHOLD = 20
TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "bench-province-passphrase-12348"

BRIDGE = """
import asyncio, sys
from hotline.bootstrap import build_context
from hotline.bridge.runner import roster_work
from hotline.bridge.service import Bridge, BridgeOptions
from hotline.redis_conn import async_redis_client
context = build_context()
async def main():
    client = async_redis_client(context.redis.url)
    options = BridgeOptions("127.0.0.1", int(sys.argv[1]), "hotline", "hotline-secret", node=context.settings.node,
                            wrapup_s=10.0, sl_threshold_s=int(sys.argv[2]))
    loop, now = roster_work(context)  # the node's lawyers only (HOTLINE_NODE, HOTLINE_NODES, users.node)
    bridge = Bridge(options, context.sessions, client, while_connected=[loop])
    bridge.actions.register("reconcile_roster", now)
    await bridge.run()
asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5) * 1000:.0f} ms, p99 {percentile(values, 0.99) * 1000:.0f} ms, max {max(values, default=float('nan')) * 1000:.0f} ms"


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


# -- processes and their usage ----------------------------------------------------------------------
def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def own_usage() -> dict[str, float]:
    """This process's CPU seconds and peak memory, for the client processes to report as they exit."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": used.ru_utime + used.ru_stime, "peak_mb": used.ru_maxrss / 1024}


def proc_usage(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and peak resident memory in MB of a process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan"), float("nan")
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    peak = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return cpu, peak / 1024


# -- the SSE clients (run as their own processes: --sse-client) -------------------------------------
LINKEDID = re.compile(rb'"linkedid":\s*"([^"]+)"')


async def sse_clients(host: str, port: int, token: str, count: int, folder: Path, tag: str) -> None:
    """`count` feeds on one event loop; each line is looked at once (no JSON parsing): the first
    entry naming a call is timed. Stops when `folder/stop` appears, then times against `folder/sent.json`."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    first: list[dict[bytes, float]] = [{} for _ in range(count)]
    lines_seen = [0] * count
    errors: list[str] = []
    request = (f"GET /api/feed HTTP/1.0\r\nHost: hotline.example.org\r\nAuthorization: Bearer {token}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()  # fmt: skip

    async def one(index: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=1 << 24)
        except OSError as exc:
            errors.append(f"connect: {exc}")
            return
        writer.write(request)
        status = await reader.readline()
        if b" 200 " not in status:
            errors.append(status.decode(errors="replace").strip())
            writer.close()
            return
        while (await reader.readline()).strip():
            pass
        mine = first[index]
        snapshot = False
        try:
            while True:
                line = await reader.readline()
                if not line:
                    errors.append("closed by the server")
                    return
                lines_seen[index] += 1
                if line.startswith(b"event:"):
                    snapshot = b"snapshot" in line
                elif line.startswith(b"data:"):
                    if not snapshot:
                        found = LINKEDID.search(line)
                        if found and found.group(1) not in mine:
                            mine[found.group(1)] = time.time()
                    snapshot = False
        except asyncio.CancelledError:
            writer.close()
            raise

    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(one(index)))
        await asyncio.sleep(0.01)  # browsers opening over a couple of seconds, not in one instant
    (folder / f"sse-{tag}.ready").write_text("1")
    while not (folder / "stop").exists():
        await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sent = json.loads((folder / "sent.json").read_text())
    latencies = []
    missing = 0
    for mine in first:
        for linkedid, at in sent.items():
            got = mine.get(linkedid.encode())
            if got is None:
                missing += 1
            else:
                latencies.append(got - at)
    (folder / f"sse-{tag}.json").write_text(json.dumps({
        "clients": count, "latencies": latencies, "missing": missing, "errors": errors[:20],
        "lines_min": min(lines_seen), "lines_max": max(lines_seen), "usage": own_usage(),
    }))  # fmt: skip


# -- the console load (its own process: --load-client) ----------------------------------------------
def load_client(base: str, supervisor: str, lawyer: str, tickets: int, seconds: float, folder: Path) -> None:
    import httpx2 as httpx

    today = datetime.now(TZ).date()
    endpoints = {
        "GET /api/live": "/api/live",
        "GET /api/kpi": f"/api/kpi?start={today - timedelta(days=1)}&end={today}&by_queue=true",
        "GET /api/calls": "/api/calls?limit=50",
        "GET /api/tickets": "/api/tickets?limit=50",
        "GET /metrics": "/metrics",
        "GET /api/health": "/api/health",
    }
    timings: dict[str, list[float]] = {}
    statuses: dict[str, dict[str, int]] = {}
    lock = threading.Lock()
    until = time.time() + seconds

    def record(name: str, started: float, status: int) -> None:
        with lock:
            timings.setdefault(name, []).append(time.perf_counter() - started)
            counts = statuses.setdefault(name, {})
            counts[str(status)] = counts.get(str(status), 0) + 1

    def reader(offset: int) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {supervisor}"}, verify=False, timeout=60
        ) as client:
            i = offset
            while time.time() < until:
                name, path = list(endpoints.items())[i % len(endpoints)]
                i += 1
                started = time.perf_counter()
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError:
                    status = 0
                record(name, started, status)
                time.sleep(0.2)

    def writer(share: int, spacing: float, seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {lawyer}"}, verify=False, timeout=60
        ) as client:
            due = time.time()
            for _ in range(share):
                due += spacing
                time.sleep(max(0.0, due - time.time()))
                body = {"description": rnd.choice(TEXTS), "caller_number": f"13{rnd.randrange(10**9):09d}"}
                started = time.perf_counter()
                try:
                    status = client.post("/api/tickets", json=body).status_code
                except httpx.HTTPError:
                    status = 0
                record("POST /api/tickets", started, status)

    writers = 6
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=writer, args=(tickets // writers + (i < tickets % writers), seconds * writers / max(1, tickets), i))
                for i in range(writers)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (folder / "load.json").write_text(json.dumps({"timings": timings, "statuses": statuses, "usage": own_usage()}))


# -- setting up ---------------------------------------------------------------------------------------
def prepare(seats: int) -> dict[str, list[tuple[str, str]]]:
    """Empty schema, stations, a supervisor and a lawyer for the load, `seats` lawyers on duty all day.
    Returns each node's (interface, name) lawyers."""
    from sqlalchemy import insert, text

    from hotline.accounts import create_user
    from hotline.bootstrap import build_context
    from hotline.security import hash_password
    from storage.migrate import upgrade
    from storage.tables import Base, DutyShift, User
    from ticketing.domain.roles import Role
    from ticketing.stations import import_stations

    context = build_context()
    with context.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(context.engine)
    context.redis.client.flushdb()
    today = datetime.now(TZ).date()
    lawyers: dict[str, list[tuple[str, str]]] = {node: [] for node in NODES}
    with context.sessions.begin() as session:
        import_stations(session, context.config.stations.root)
        create_user(session, "bench-supervisor", PASSWORD, Role.SUPERVISOR, "督导")
        create_user(session, "bench-lawyer", PASSWORD, Role.LAWYER, "值班律师", interface="PJSIP/9999", node="pbx-a")
        shared_hash = hash_password(PASSWORD)  # one hash for the seats: hashing is slow on purpose
        rows = []
        for s in range(seats):
            node = NODES[s % 2]
            interface = f"PJSIP/{s % 2 + 1}{s // 2:03d}"
            # A quarter of the seats have no node of their own: they belong to the first (pbx-a).
            own = None if node == NODES[0] and s % 4 == 0 else node
            rows.append({"username": f"seat{s:03d}", "display_name": f"律师{s:03d}", "role": Role.LAWYER.value,
                         "password_hash": shared_hash, "interface": interface, "node": own, "is_active": True,
                         "created_at": datetime.now(UTC)})  # fmt: skip
            lawyers[node].append((interface, f"律师{s:03d}"))
        session.execute(insert(User), rows)
        ids = dict(session.execute(text("SELECT username, id FROM users")).all())
        session.execute(insert(DutyShift), [
            {"user_id": ids[f"seat{s:03d}"], "day": today, "starts_at": dt_time(0), "ends_at": dt_time(0),
             "ends_next_day": True, "queues": [QUEUES[s % 4], QUEUES[(s + 1) % 4]], "languages": ["普通话"],
             "source_file": "bench", "source_row": s + 2, "imported_at": datetime.now(UTC), "imported_by": "bench"}
            for s in range(seats)
        ])  # fmt: skip
    context.close()
    return lawyers


def nginx_site(folder: Path, api_ports: list[int], port: int) -> list[str]:
    """The shipped site with the API ports, loopback listeners and a throw-away certificate."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hotline.example.org",
         "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (REPO / "deploy" / "nginx" / "hotline.conf").read_text()
    site = site.replace("/etc/hotline/tls/", f"{folder}/").replace("/var/log/nginx/", f"{folder}/")
    upstream = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n" for p in api_ports)
    site = re.sub(
        r"(upstream hotline_api \{\n    least_conn;\n)(?:    server 127\.0\.0\.1:\d+[^\n]*\n)+",
        lambda m: m.group(1) + upstream,
        site,
    )
    site = re.sub(r"    listen \[::\]:[^\n]*\n", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port + 1};").replace(
        "listen 443 ssl", f"listen 127.0.0.1:{port} ssl"
    )
    (folder / "hotline.conf").write_text(site)
    mime = Path("/etc/nginx/mime.types")
    (folder / "nginx.conf").write_text(
        f"worker_processes 2;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 4096; }\nhttp {\n"
        + (f"    include {mime};\n" if mime.exists() else "")
        + f"    client_body_temp_path {folder}/body;\n    proxy_temp_path {folder}/proxy;\n"
        f"    include {folder}/hotline.conf;\n}}\n"
    )
    return ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def linkedid_of(raw: bytes) -> str | None:
    for line in raw.decode().split("\r\n"):
        if line.startswith("Linkedid: "):
            return line.removeprefix("Linkedid: ")
    return None


class JobWatch:
    """Job queue age while the run goes on: the oldest waiting job of each queue every 0.5 s (what
    /metrics and /api/health report), and each finished job's enqueued → started."""

    def __init__(self, url: str) -> None:
        from hotline.redis_conn import redis_client

        self.client = redis_client(url)
        self.oldest: list[float] = []
        self.waits: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        from rq import Queue
        from rq.registry import FinishedJobRegistry, StartedJobRegistry

        from hotline.jobs.pool import DEFAULT_QUEUES

        queues = [Queue(name, connection=self.client) for name in DEFAULT_QUEUES]
        last_harvest = 0.0
        while not self.stop.is_set():
            now = time.time()
            for queue in queues:
                first = queue.get_job_ids(0, 1)
                job = queue.fetch_job(first[0]) if first else None
                age = (
                    0.0
                    if job is None or job.enqueued_at is None
                    else max(0.0, now - job.enqueued_at.replace(tzinfo=UTC).timestamp())
                )
                self.oldest.append(age)
            if now - last_harvest > 10:
                last_harvest = now
                for queue in queues:
                    for registry in (FinishedJobRegistry(queue=queue), StartedJobRegistry(queue=queue)):
                        fresh = [j for j in registry.get_job_ids() if j not in self.waits]
                        for job in queue.job_class.fetch_many(fresh, connection=self.client):
                            if job is not None and job.enqueued_at and job.started_at:
                                self.waits[job.id] = (job.started_at - job.enqueued_at).total_seconds()
            self.stop.wait(0.5)


# -- the run ------------------------------------------------------------------------------------------
async def main() -> None:
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--calls", type=int, default=10_000, help="calls placed in all (half on each node)")
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--seats", type=int, default=200, help="lawyers on duty (half on each node)")
    parser.add_argument("--in-progress", type=int, default=50, help="callers waiting throughout")
    parser.add_argument("--sse", type=int, default=200, help="console feeds (SSE) through nginx")
    parser.add_argument("--sse-processes", type=int, default=2)
    parser.add_argument("--api-processes", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=5.0, help="the hour of traffic is played in this long")
    parser.add_argument("--port", type=int, default=21743, help="nginx's TLS port (and the next one for plain HTTP)")
    args = parser.parse_args()
    name = make_url(args.db_url).database or ""
    if not (name.startswith("test") or name.startswith("bench")):
        sys.exit(f"refusing to wipe database {name!r}: use one whose name starts with test or bench")
    folder = Path(tempfile.mkdtemp(prefix="bench-province-"))
    env = {**os.environ, "HOTLINE_DATABASE_URL": args.db_url, "HOTLINE_REDIS_URL": args.redis_url,
           "HOTLINE_CONFIG_DIR": str(REPO / "config"), "HOTLINE_DATA_DIR": str(folder / "var"),
           "HOTLINE_NODES": ",".join(NODES), "HOTLINE_TRUSTED_PROXIES": "127.0.0.1"}  # fmt: skip
    os.environ.update(env)
    load_before = os.getloadavg()
    lawyers = prepare(args.seats)

    from hotline.ami.sim_calls import CallFactory, Event, Member
    from hotline.ami.sim_queues import SimQueues
    from hotline.ami.simulator import AmiSimulator
    from settings.files import load_config

    all_queues = sorted({*QUEUES, *(q.name for q in load_config(REPO / "config").service_hours.queues)})
    seat_queues = {n: SimQueues(all_queues) for n in NODES}
    simulators = {n: AmiSimulator(handlers=[seat_queues[n]]) for n in NODES}
    ports = {n: (await s.start("127.0.0.1", 0))[1] for n, s in simulators.items()}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs = open(folder / "processes.log", "wb")  # noqa: SIM115

    def start(label: str, command: list[str], extra: dict[str, str] | None = None) -> None:
        processes[label] = subprocess.Popen(command, env={**env, **(extra or {})}, cwd=REPO, stdout=logs, stderr=logs)

    for node in NODES:
        start(
            f"bridge {node}", [sys.executable, "-c", BRIDGE, str(ports[node]), str(THRESHOLD)], {"HOTLINE_NODE": node}
        )
    api_ports = [free_port() for _ in range(args.api_processes)]
    for i, port in enumerate(api_ports):
        start(
            f"API {i + 1}",
            [
                str(REPO / ".venv/bin/hotline"),
                "serve",
                "--no-bridge",
                "--no-worker",
                "--no-scheduler",
                "--no-relay",
                "--port",
                str(port),
            ],
        )
    start(
        f"worker pool ({args.workers} processes)",
        [str(REPO / ".venv/bin/hotline"), "worker", "--processes", str(args.workers)],
    )
    start("outbox relay", [str(REPO / ".venv/bin/hotline"), "relay"])
    start("nginx", nginx_site(folder, api_ports, args.port))
    base = f"https://127.0.0.1:{args.port}"
    watch = JobWatch(args.redis_url)
    try:
        import httpx2 as httpx

        deadline = time.time() + 180
        # Every API process answering on its own port (nginx would mark a late one failed for a
        # while), then through nginx: the workers and both nodes' bridges up.
        for url in [*(f"http://127.0.0.1:{p}" for p in api_ports), base]:
            while True:
                try:
                    health = httpx.get(f"{url}/api/health", verify=False, timeout=3).json()
                    if (
                        health["components"]["workers"]["count"] >= args.workers
                        and health["components"]["bridge"]["status"] == "ok"
                    ):
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                if time.time() > deadline:
                    sys.exit(f"the service did not come up; see {folder / 'processes.log'}")
                await asyncio.sleep(0.5)

        # The roster: each node's queues hold exactly its own lawyers (the bridges' first pass).
        def seated(node: str) -> set[str]:
            return {i for q in QUEUES for i in seat_queues[node].members(q)}

        while any(seated(n) != {i for i, _ in lawyers[n]} for n in NODES) and time.time() < deadline:
            await asyncio.sleep(0.5)
        seating = {
            n: (
                len(seated(n) & {i for i, _ in lawyers[n]}),
                len(lawyers[n]),
                len(seated(n) - {i for i, _ in lawyers[n]}),
            )
            for n in NODES
        }

        def token(username: str) -> str:
            answer = httpx.post(
                f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}, verify=False, timeout=30
            )
            answer.raise_for_status()
            return str(answer.json()["token"])

        supervisor, lawyer = token("bench-supervisor"), token("bench-lawyer")
        per_process = [
            args.sse // args.sse_processes + (i < args.sse % args.sse_processes) for i in range(args.sse_processes)
        ]
        for i, count in enumerate(per_process):
            start(f"SSE clients {i + 1} ({count} feeds)",
                  [sys.executable, __file__, "--sse-client", "127.0.0.1", str(args.port), supervisor, str(count), str(folder), str(i)])  # fmt: skip
        while not all((folder / f"sse-{i}.ready").exists() for i in range(args.sse_processes)):
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)

        # The traffic: an hour on each node, ending a little before now; and the callers waiting throughout.
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
        span = 3600.0
        rnd = random.Random(12348)
        events: list[tuple[float, str, bytes]] = []
        placed: list[dict[str, Any]] = []
        waiting: list[tuple[str, list[Event]]] = []
        for index, node in enumerate(NODES):
            factory = CallFactory(first_sequence=1000 + index * 1_000_000)
            members = [Member(i, n) for i, n in lawyers[node]]
            for k in range(args.calls // len(NODES) + (index < args.calls % len(NODES))):
                at = hour.timestamp() + 60 + span * k / (args.calls / len(NODES))
                queue = QUEUES[k % len(QUEUES)]
                caller = f"13{rnd.randrange(10**9):09d}"
                wait = rnd.choice((3.0, 8.0, 15.0, 25.0, 40.0, 90.0))
                answered = rnd.random() < 0.85
                if answered:
                    call = factory.answered(
                        caller, queue, members[k % len(members)], at, wait_s=wait, talk_s=rnd.uniform(60, 300)
                    )
                else:
                    call = factory.abandoned(caller, queue, at, wait_s=wait)
                placed.append({"queue": queue, "answered": answered})
                events += [(t, node, raw) for t, raw in call]
            for k in range(args.in_progress // len(NODES) + (index < args.in_progress % len(NODES))):
                call = factory.abandoned(f"1390000{index}{k:03d}", QUEUES[k % len(QUEUES)], time.time(), wait_s=36000)
                joined = next(i for i, e in enumerate(call) if b"Event: QueueCallerJoin" in e[1])
                waiting.append((node, call[: joined + 1]))
        events.sort(key=lambda e: e[0])
        # Each call's first event (a feed entry naming the call cannot come before it; timing from its
        # QueueCallerJoin gave negative figures, the entries of its earlier events), found before the
        # clock starts so that the pacing loop only stamps it.
        seen: set[str] = set()
        first_of_call: list[str | None] = []
        for _, _, raw in events:
            linkedid = linkedid_of(raw)
            if linkedid in seen:
                linkedid = None
            elif linkedid is not None:
                seen.add(linkedid)
            first_of_call.append(linkedid)
        for node, call in waiting:
            for _, raw in call:
                await simulators[node].send_event(raw)

        sent: dict[str, float] = {}
        watch.thread.start()
        load_seconds = args.minutes * 60
        start(
            "console load (API reads, tickets)",
            [
                sys.executable,
                __file__,
                "--load-client",
                base,
                supervisor,
                lawyer,
                str(args.tickets),
                str(load_seconds),
                str(folder),
            ],
        )
        compress = span / load_seconds
        first_at = events[0][0]
        started = time.time()
        behind = 0.0
        for (at, node, raw), linkedid in zip(events, first_of_call, strict=True):
            due = started + (at - first_at) / compress
            now = time.time()
            if due > now:
                await asyncio.sleep(due - now)
            else:
                behind = max(behind, now - due)
            if linkedid is not None:
                sent[linkedid] = time.time()
            await simulators[node].send_event(raw)
        played = time.time() - started

        from hotline.bootstrap import build_context
        from hotline.reports.kpi import compute_kpis
        from storage.tables import Call, Ticket, TicketEvent

        context = build_context()

        def count(*where: Any) -> int:
            with context.sessions() as session:
                return int(session.scalar(select(func.count()).select_from(Call).where(*where)) or 0)

        while count(Call.outcome != "in_progress") < len(placed) and time.time() - started < load_seconds + 300:
            await asyncio.sleep(0.5)
        written_s = time.time() - started
        await asyncio.sleep(3)  # the last feed entries reach the clients
        (folder / "sent.json").write_text(json.dumps(sent))
        (folder / "stop").write_text("1")
        while processes["console load (API reads, tickets)"].poll() is None:
            await asyncio.sleep(0.5)

        def routed() -> tuple[int, int]:
            with context.sessions() as session:
                tickets = int(session.scalar(select(func.count()).select_from(Ticket)) or 0)
                done = int(
                    session.scalar(
                        select(func.count(func.distinct(TicketEvent.ticket_id))).where(TicketEvent.action == "route")
                    )
                    or 0
                )
            return tickets, done

        while routed()[1] < routed()[0] and time.time() - started < load_seconds + 400:
            await asyncio.sleep(0.5)
        watch.stop.set()
        watch.thread.join()
        tickets, tickets_routed = routed()
        sse = []
        for i in range(args.sse_processes):
            result = folder / f"sse-{i}.json"
            while not result.exists() and time.time() - started < load_seconds + 500:
                await asyncio.sleep(0.5)
            sse.append(json.loads(result.read_text()))
        load = json.loads((folder / "load.json").read_text())

        rows = count(Call.outcome != "in_progress")
        live_rows = count(Call.outcome == "in_progress")
        by_node = {n: count(Call.outcome != "in_progress", Call.node == n) for n in NODES}
        with context.sessions() as session:
            window = (hour, hour + timedelta(hours=3))
            kw = {"threshold_s": THRESHOLD, "tz": TZ, "by_queue": True}
            rollup = [r.report() for r in compute_kpis(session, *window, rollup_threshold_s=THRESHOLD, **kw)]  # type: ignore[arg-type]
            recount = [r.report() for r in compute_kpis(session, *window, rollup_threshold_s=None, **kw)]  # type: ignore[arg-type]
        context.close()
        usage: dict[str, tuple[float, float]] = {}
        for label, process in processes.items():
            pids = [process.pid, *children(process.pid)]
            if label.startswith("nginx") or label.startswith("worker pool"):
                for pid in pids:
                    usage[f"{label} pid {pid}{' (parent)' if pid == process.pid else ''}"] = proc_usage(pid)
            else:
                usage[label] = proc_usage(process.pid)
        # The client processes have exited: their own report.
        for i, part in enumerate(sse):
            usage[f"SSE clients {i + 1} ({part['clients']} feeds)"] = (part["usage"]["cpu"], part["usage"]["peak_mb"])
        usage["console load (API reads, tickets)"] = (load["usage"]["cpu"], load["usage"]["peak_mb"])
        usage["simulators + orchestration (this process)"] = proc_usage(os.getpid())
        load_after = os.getloadavg()

        latencies = [x for part in sse for x in part["latencies"]]
        offered = sum(r["offered"] for r in rollup)
        print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB; loopback only; "
              f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")  # fmt: skip
        print(f"scale: {args.calls} calls (one hour on each of 2 nodes, played in {args.minutes:g} min), {args.tickets} tickets, "
              f"{args.seats} seats, {args.in_progress} callers waiting throughout, {args.sse} SSE clients in {args.sse_processes} processes, "
              f"{args.api_processes} API processes behind nginx (TLS), {args.workers} workers")  # fmt: skip
        for n in NODES:
            own, total, foreign = seating[n]
            print(f"roster {n}: {own} of its {total} lawyers seated by its bridge, {foreign} of the other node's")
        print(
            f"played in {played:.1f} s (at most {behind * 1000:.0f} ms behind schedule); every row written {written_s:.1f} s after the first event"
        )
        print(f"call rows written / calls placed: {rows} / {len(placed)} ({', '.join(f'{n} {c}' for n, c in by_node.items())}; "
              f"+{live_rows} in progress of {args.in_progress})")  # fmt: skip
        print(f"KPI rollup == recount from rows: {same_kpis(rollup, recount)} (offered {offered}, "
              f"answered {sum(r['answered'] for r in rollup)}, abandoned {sum(r['abandoned'] for r in rollup)})")  # fmt: skip
        print(f"event -> console (a call's first event sent -> SSE client receipt of its first entry), {len(latencies)} receipts of "
              f"{len(sent) * args.sse} ({sum(p['missing'] for p in sse)} missing): {ms(latencies)}")  # fmt: skip
        print(f"  SSE lines per client min {min(p['lines_min'] for p in sse)} max {max(p['lines_max'] for p in sse)}; "
              f"client errors: {[e for p in sse for e in p['errors']][:5]}")  # fmt: skip
        for endpoint, values in sorted(load["timings"].items()):
            print(f"  {endpoint}: {len(values)} requests {load['statuses'][endpoint]}, p50 {statistics.median(values) * 1000:.1f} ms, "
                  f"p99 {percentile(values, 0.99) * 1000:.1f} ms")  # fmt: skip
        print(f"tickets created {tickets}, routed {tickets_routed}")
        print(f"job queue age (oldest waiting job, every 0.5 s over {len(watch.oldest)} samples): {ms(watch.oldest)}")
        print(f"job wait enqueued -> started ({len(watch.waits)} jobs): {ms(list(watch.waits.values()))}")
        for label, (cpu, peak) in usage.items():
            print(f"  {label}: CPU {cpu:.1f} s, peak RSS {peak:.0f} MB")
    finally:
        watch.stop.set()
        (folder / "stop").write_text("1")
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for simulator in simulators.values():
            await simulator.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sse-client"]:
        host, port, token, count, folder, tag = sys.argv[2:8]
        asyncio.run(sse_clients(host, int(port), token, int(count), Path(folder), tag))
    elif sys.argv[1:2] == ["--load-client"]:
        base, supervisor, lawyer, tickets, seconds, folder = sys.argv[2:8]
        load_client(base, supervisor, lawyer, int(tickets), float(seconds), Path(folder))
    else:
        asyncio.run(main())
