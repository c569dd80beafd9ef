"""The hotline against a real Asterisk 22: recovery after Asterisk restarts, and a burst of calls.

    .venv/bin/python scripts/bench_pbx.py restart [--rounds 5] [--outage 20] [--how kill|stop]
    .venv/bin/python scripts/bench_pbx.py burst [--calls 100] [--rate 10]
        [--url postgresql://postgres@127.0.0.1:5432/bench_pbx] [--redis redis://127.0.0.1:6379/9]

Asterisk comes from HOTLINE_TEST_ASTERISK (default ../shared/tools/asterisk-22/) and is configured
from config/asterisk/ by the real-PBX test harness (tests/pbx), on free loopback ports; callers and
lawyers' phones are SIPp. The hotline runs as `hotline bridge` does (bridge, IVR, roster loop) on
the database and Redis given (default: a scratch SQLite file; the Redis db is flushed).

restart: with the bridge connected, Asterisk is killed (SIGKILL: a crash) or stopped (`core stop
now`), stays down --outage seconds and is started again. Per round: seconds from Asterisk's AMI
port accepting connections again to the bridge connected and resynchronised (its heartbeat says
so), and from Asterisk fully booted to the same; then, 5 s later, the AMI sessions of the bridge's
user (`manager show connected`). The probe that notices the port open tries every 10 ms.

burst: --calls SIPp calls to 12348 at --rate per second. Half hang up during the welcome prompt;
half choose the operator (1, then 0) and hang up 16 s later: the IVR's operator announcements and
"connecting" take ~10.5 s, so they wait in queue zonghe for up to ~5 s, where two lawyers' phones
answer (talk 2 s; the queue's 10 s wrap-up). Reported: calls recorded (rows with a final outcome) /
calls placed, their outcomes, app_queue's own counts (queue_log), where callers who never reached
the queue left the IVR, and p50/p99 latency from a TCP read of AMI events to its live state
published in Redis (the bridge's own measure, as in bench_bridge.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text

from hotline.bootstrap import Context, build_context
from ivr.menu_checks import load_ivr_config
from ivr.prompt_audio import generate_prompts
from ivr.prompts import PromptFiles
from settings.env import Settings
from storage.migrate import upgrade
from storage.tables import Base, Call, IvrSession, Station
from tests.pbx.asterisk import ENV, Asterisk, choose_ports, generate_config, locate
from tests.pbx.harness import HotlinePbx, wait_for
from tests.pbx.sipp import Caller, Key, Phone
from ticketing.stations import import_stations

REPO = Path(__file__).resolve().parent.parent
ALIVE = "hotline:bridge:default:alive"


def heartbeat(context: Context) -> dict[str, object]:
    raw = context.redis.client.get(ALIVE)
    return {} if raw is None else json.loads(raw)


def sessions(asterisk: Asterisk) -> int:
    listing = asterisk.cli("manager show connected")
    return len(re.findall(rf"^\s*{re.escape(asterisk.config.ami_username)}\s", listing, re.M))


def first_accept(port: int, stop: threading.Event) -> float | None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.monotonic()
        except OSError:
            time.sleep(0.01)
    return None


def _probe(port: int, stop: threading.Event, into: list[float | None]) -> None:
    into.append(first_accept(port, stop))


def restart(pbx: HotlinePbx, rounds: int, outage: float, how: str) -> None:
    asterisk, context = pbx.asterisk, pbx.context
    assert context is not None
    to_ready, after_boot, left = [], [], []
    for number in range(1, rounds + 1):
        asterisk.kill() if how == "kill" else asterisk.stop()
        wait_for(lambda: heartbeat(context).get("connected") is False, 30, "the bridge to notice")
        time.sleep(outage)
        stop = threading.Event()
        accepted: list[float | None] = []
        probe = threading.Thread(target=_probe, args=(asterisk.ports.ami, stop, accepted))
        probe.start()
        asterisk.start()
        booted = time.monotonic()
        wait_for(lambda: heartbeat(context).get("connected") is True, 60, "the bridge back", step=0.005)
        ready = time.monotonic()
        stop.set()
        probe.join()
        time.sleep(5)
        count = sessions(asterisk)
        opened = accepted[0] if accepted and accepted[0] is not None else booted
        to_ready.append(ready - opened)
        after_boot.append(ready - booted)
        left.append(count)
        print(
            f"round {number}: connected and resynchronised {ready - opened:.2f} s after the AMI port opened"
            f" ({ready - booted:+.2f} s after fully booted); AMI sessions after 5 s: {count}"
        )
    print(
        f"\n{how} + {outage:g} s down, {rounds} rounds: reconnect after the AMI port opened median"
        f" {statistics.median(to_ready):.2f} s, max {max(to_ready):.2f} s; sessions after recovery {sorted(set(left))}"
    )


def burst(pbx: HotlinePbx, calls: int, rate: float) -> None:
    asterisk, context = pbx.asterisk, pbx.context
    assert context is not None
    half = calls // 2
    for name in ("2003", "2004"):
        asterisk.cli(f"queue add member PJSIP/{name} to zonghe")
        pbx.phone(name, Phone(answer_after_ms=300, hangup_after_ms=2000, calls=calls))
    started = time.monotonic()
    runs = [
        pbx.call(Caller(hangup_after_ms=2000, number="1390001[call_number]"), calls=half, rate=rate / 2),
        pbx.call(
            Caller(
                keys=[Key("1", at_ms=11000), Key("0", at_ms=1500)],
                hangup_after_ms=16_000,
                number="1390002[call_number]",
            ),
            calls=calls - half,
            rate=rate / 2,
        ),
    ]
    for run in runs:
        run.wait(600)

    def recorded() -> dict[str, int] | None:
        with context.sessions() as db:
            outcomes = dict(db.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all())
        return outcomes if sum(outcomes.values()) >= calls and "in_progress" not in outcomes else None

    try:
        outcomes = wait_for(recorded, 60, "every call recorded")
    except AssertionError:
        with context.sessions() as db:
            outcomes = dict(db.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all())
    elapsed = time.monotonic() - started
    time.sleep(6)  # one more heartbeat with the latest latency figures
    latency = heartbeat(context).get("latency_ms") or {}
    closed = sum(n for outcome, n in outcomes.items() if outcome != "in_progress")
    print(
        f"calls placed {calls} at {rate:g}/s, recorded {closed} ({closed / calls:.0%}) in {elapsed:.0f} s: {outcomes}"
    )
    logged = Counter(line[4] for line in asterisk.queue_log() if line[2] == "zonghe")
    entered, connected, abandoned = logged["ENTERQUEUE"], logged["CONNECT"], logged["ABANDON"]
    print(f"app_queue (queue_log): entered {entered}, connected {connected}, abandoned {abandoned}")
    with context.sessions() as db:
        left = Counter(
            f"{s.caller_number[:7]}… at {s.path[-1]['node'] if s.path else '-'}"
            for s in db.scalars(select(IvrSession).where(IvrSession.exit == "hangup"))
            if s.caller_number
        )
    print(f"hung up in the IVR (caller group, last step): {dict(left)}")
    print(f"event -> live state latency: p50 {latency.get('p50')} ms, p99 {latency.get('p99')} ms")
    print(f"AMI sessions of the bridge: {sessions(asterisk)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("restart", "burst"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--outage", type=float, default=20.0)
    parser.add_argument("--how", choices=("kill", "stop"), default="kill")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--url", default=None, help="database (default: a scratch SQLite file)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="hl-bench-", dir="/tmp"))
    settings = Settings(
        data_dir=home / "data",
        config_dir=REPO / "config",
        database_url=args.url or f"sqlite:///{home / 'bench.db'}",
        redis_url=args.redis,
    )
    (home / "data").mkdir()
    context = build_context(settings)
    asterisk = None
    pbx = None
    try:
        with context.engine.begin() as connection:
            if context.engine.dialect.name == "postgresql":
                Base.metadata.drop_all(connection)
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(context.engine)
        with context.sessions.begin() as session:
            if session.scalar(select(func.count()).select_from(Station)) == 0:
                import_stations(session, context.config.stations.root)
        context.redis.client.flushdb()
        build = locate(os.environ.get(ENV) or str(REPO.parent / "shared/tools/asterisk-22"), home / "build")
        asterisk = Asterisk(build, home / "ast", generate_config(home / "ast" / "etc", choose_ports()))
        asterisk.start()
        sounds = home / "sounds"
        ivr = load_ivr_config(settings.config_dir, context.config)
        generate_prompts(ivr, PromptFiles(sounds, str(sounds), ivr.default_language))
        pbx = HotlinePbx(context, asterisk, home / "work", sounds).start()
        wait_for(lambda: heartbeat(context).get("connected") is True, 30, "the bridge connected")
        if args.what == "restart":
            restart(pbx, args.rounds, args.outage, args.how)
        else:
            burst(pbx, args.calls, args.rate)
    finally:
        if pbx is not None:
            pbx.stop()
        if asterisk is not None:
            asterisk.stop()
        context.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
