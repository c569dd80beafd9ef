"""Background jobs under load, on PostgreSQL and a Redis server: routing jobs per second and the time
from a ticket's creation to its routing decision.

    .venv/bin/python scripts/bench_jobs.py [--clients 20] [--seconds 30] [--backlog 3000] [--processes 4]

Starts its own PostgreSQL (initdb in a temporary folder) and redis-server on free loopback ports, then
`hotline serve --no-bridge` on them (API, outbox relay, scheduler, the supervised worker pools), and:

1. latency: `--clients` threads sign in as lawyers and create tickets over HTTP as fast as they can
   for `--seconds`; created → routed is each ticket's `created_at` to its `route` event;
2. throughput: `--backlog` tickets committed at once (as a burst of calls would), with a 督办 sweep
   enqueued at the same moment; routing jobs per second is the backlog over the time until the last
   is routed, and the sweep's wait in its queue shows whether sweeps queue behind routing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis  # noqa: E402
from _questions import TEXTS  # noqa: E402
from rq import Queue  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from hotline.accounts import actor_for, create_user  # noqa: E402
from hotline.bootstrap import ticket_policy  # noqa: E402
from settings.env import Settings  # noqa: E402
from settings.files import load_config  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.tables import OutboxMessage, Ticket, TicketEvent, User  # noqa: E402
from tests.servers import PostgresServer, RedisServer, free_port, service_env  # noqa: E402
from ticketing.domain.roles import Role  # noqa: E402
from ticketing.tickets import NewTicket, create_ticket  # noqa: E402

PASSWORD = "bench-jobs-passphrase-12348"


def request(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
        return dict(json.loads(answer.read()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def routed_latencies(sessions: Any, since: datetime) -> tuple[int, list[float], datetime | None]:
    """Tickets created since `since`: how many, each one's created → first route event, the last route."""
    with sessions() as session:
        rows = session.execute(
            select(Ticket.created_at, func.min(TicketEvent.at))
            .join(TicketEvent, (TicketEvent.ticket_id == Ticket.id) & (TicketEvent.action == "route"), isouter=True)
            .where(Ticket.created_at >= since)
            .group_by(Ticket.id)
        ).all()
    done = [(c, r) for c, r in rows if r is not None]
    last = max((r for _c, r in done), default=None)
    return len(rows), [(r - c).total_seconds() for c, r in done], last


def handed_over(sessions: Any, since: datetime) -> list[float]:
    """Each routing message's commit → its (last) hand-over to rq: the outbox relay's share of the latency."""
    with sessions() as session:
        rows = session.execute(
            select(OutboxMessage.created_at, OutboxMessage.dispatched_at).where(
                OutboxMessage.created_at >= since,
                OutboxMessage.event == "ticket.needs_routing",
                OutboxMessage.dispatched_at.is_not(None),
            )
        ).all()
    return [(d - c).total_seconds() for c, d in rows]


def acknowledged_to_routed(sessions: Any, acknowledged: dict[str, tuple[float, datetime]]) -> list[float]:
    """Each ticket's 201 at the client → its route event (what a caller waits after the lawyer saved it)."""
    with sessions() as session:
        rows = session.execute(
            select(Ticket.code, func.min(TicketEvent.at))
            .join(TicketEvent, (TicketEvent.ticket_id == Ticket.id) & (TicketEvent.action == "route"))
            .where(Ticket.code.in_(list(acknowledged)))
            .group_by(Ticket.code)
        ).all()
    return [max(0.0, (routed - acknowledged[code][1]).total_seconds()) for code, routed in rows]


def wait_routed(sessions: Any, since: datetime, expected: int, limit_s: float) -> tuple[list[float], datetime | None]:
    deadline = time.monotonic() + limit_s
    while True:
        _total, latencies, last = routed_latencies(sessions, since)
        if len(latencies) >= expected or time.monotonic() > deadline:
            return latencies, last
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--backlog", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=4, help="workers in the routing pool")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    postgres = PostgresServer().start()
    redis_server = RedisServer(folder).start()
    service: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        env = service_env(postgres, redis_server, folder / "var", port, args.processes)
        subprocess.run([sys.executable, "-m", "hotline.cli", "setup", "--no-demo"], env=env, check=True, cwd=REPO,
                       capture_output=True)  # fmt: skip
        settings = Settings(database_url=postgres.url, redis_url=redis_server.url, config_dir=REPO / "config")
        config = load_config(settings.config_dir)
        policy = ticket_policy(settings, config)
        engine = make_engine(postgres.url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            for i in range(args.clients):
                create_user(session, f"bench{i}", PASSWORD, Role.LAWYER)
        log = open(folder / "service.log", "wb")  # noqa: SIM115
        service = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "serve", "--no-bridge"], env=env, cwd=REPO, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                workers = request(f"{base}/api/health")["components"]["workers"]["count"]
                if workers >= args.processes:
                    break
            except (OSError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the service did not come up; see {folder / 'service.log'}")
            time.sleep(0.5)

        # 1. Latency under concurrent clients.
        tokens = [request(f"{base}/api/auth/login", {"username": f"bench{i}", "password": PASSWORD})["token"]
                  for i in range(args.clients)]  # fmt: skip
        since = datetime.now(UTC)
        stop = time.monotonic() + args.seconds
        created = [0] * args.clients
        errors = [0] * args.clients
        acknowledged: dict[str, tuple[float, datetime]] = {}  # code → (request's seconds, answer received)

        def client(i: int) -> None:
            n = 0
            while time.monotonic() < stop:
                body = {"description": TEXTS[(i + n) % len(TEXTS)], "caller_number": f"138{i:04d}{n % 10000:04d}"}
                try:
                    sent = time.perf_counter()
                    code = request(f"{base}/api/tickets", body, tokens[i])["code"]
                    acknowledged[code] = (time.perf_counter() - sent, datetime.now(UTC))
                    created[i] += 1
                except OSError:
                    errors[i] += 1
                n += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        made = sum(created)
        latencies, _last = wait_routed(sessions, since, made, 300)
        print(f"latency: {args.clients} clients for {args.seconds:.0f} s created {made} tickets "
              f"({made / args.seconds:.1f}/s, {sum(errors)} errors); routed {len(latencies)}")  # fmt: skip
        if latencies:
            print(f"  created → routed: p50 {percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
                  f"p99 {percentile(latencies, 99):.2f} s, max {max(latencies):.2f} s")  # fmt: skip
            relayed = handed_over(sessions, since)
            print(f"  created → handed to rq (the API's request, then the outbox relay): "
                  f"p50 {percentile(relayed, 50):.2f} s, p99 {percentile(relayed, 99):.2f} s")  # fmt: skip
            answered = [seconds for seconds, _at in acknowledged.values()]
            print(f"  the create request itself (client's view): p50 {percentile(answered, 50):.2f} s, "
                  f"p99 {percentile(answered, 99):.2f} s")  # fmt: skip
            after = acknowledged_to_routed(sessions, acknowledged)
            print(f"  acknowledged (201 received) → routed: p50 {percentile(after, 50):.2f} s, "
                  f"p95 {percentile(after, 95):.2f} s, p99 {percentile(after, 99):.2f} s, "
                  f"max {max(after):.2f} s")  # fmt: skip

        # 2. Throughput on a backlog, with a sweep enqueued at the same moment.
        with sessions() as session:
            lawyer = actor_for(session.scalars(select(User).where(User.username == "bench0")).one())
        since = datetime.now(UTC)
        with sessions.begin() as session:
            for n in range(args.backlog):
                new = NewTicket("phone", TEXTS[n % len(TEXTS)], caller_number=f"139{n:08d}")
                create_ticket(session, lawyer, new, policy, datetime.now(UTC))
        committed = datetime.now(UTC)
        connection = redis.Redis.from_url(redis_server.url)
        sweep = Queue("sweeps", connection=connection).enqueue("hotline.jobs.escalate_overdue_tickets")
        latencies, last = wait_routed(sessions, since, args.backlog, 600)
        sweep.refresh()
        waited = (
            (sweep.started_at - sweep.enqueued_at).total_seconds() if sweep.started_at and sweep.enqueued_at else None
        )
        span = (last - committed).total_seconds() if last else float("nan")
        print(f"throughput: {len(latencies)} of {args.backlog} backlog tickets routed in {span:.1f} s: "
              f"{len(latencies) / span:.0f} routing jobs/s ({args.processes} worker processes; "
              f"each ticket also has its feed announcement job)")  # fmt: skip
        print(f"  a 督办 sweep enqueued with the backlog waited {waited:.2f} s in its queue" if waited is not None
              else "  the sweep did not run")  # fmt: skip
        print(f"  mean created → routed in the backlog {statistics.mean(latencies):.1f} s" if latencies else "")
        engine.dispose()
        connection.close()
    finally:
        if service is not None:
            service.terminate()
            try:
                service.wait(30)
            except subprocess.TimeoutExpired:
                service.kill()
        redis_server.kill()
        postgres.remove()


if __name__ == "__main__":
    main()
