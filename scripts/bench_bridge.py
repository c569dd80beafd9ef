"""End-to-end bridge throughput: the recorded burst scaled to >= 200,000 AMI events.

    .venv/bin/python scripts/bench_bridge.py [--copies 160] [--url postgresql://postgres@127.0.0.1:5432/bench_bridge]
                                             [--redis redis://127.0.0.1:6379/9]

Reads ../shared/fixtures/asterisk-22/ami/09-burst-20-calls (20 real calls, ~1,500 messages), makes
`--copies` copies with fresh Uniqueids, channel names and times, staggered so hundreds of calls are up
at once, and interleaves them by time. An AMI server in a separate process (the role Asterisk plays)
sends the whole stream as fast as TCP takes it to the full bridge in this process: framing and
selective parsing → call tracker → live model → Redis pipeline per read → call rows batched into
PostgreSQL. Reported: events/s from the first byte to the last row written, and p50/p99 latency
from a TCP read's arrival to its live state being published in Redis. In the same run, bare
panoramisk parses the same stream (Message.from_line per message, as its protocol does) as the
ceiling, and the ratio is printed. The database and Redis db given are wiped: use scratch ones.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from pathlib import Path

import redis
import redis.asyncio as aioredis
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.ami.frames import FrameDecoder, parse_fields
from hotline.ami.simulator import AmiSimulator, encode
from hotline.bridge.core import wants
from hotline.bridge.service import Bridge, BridgeOptions
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.tables import Base, Call

BURST = Path(__file__).resolve().parents[2] / "shared/fixtures/asterisk-22/ami/09-burst-20-calls.ami"
ID_KEYS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")
CHANNEL_KEYS = ("Channel", "DestChannel", "BridgePeer")


def recorded_events() -> list[list[tuple[str, str]]]:
    out = []
    for raw in FrameDecoder().split(BURST.read_bytes()):
        if isinstance(raw, bytes) and raw.startswith(b"Event: ") and b"\r\nActionID: " not in raw:
            out.append([tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
                        for line in raw[:-4].decode().split("\r\n")])  # fmt: skip
    return out


def scaled_stream(copies: int, stagger_s: float) -> tuple[bytes, int, int]:
    """The burst `copies` times with fresh ids, interleaved by time: (bytes, messages, calls)."""
    template = recorded_events()
    start = float(next(v for h in template for k, v in h if k == "Timestamp"))
    timed: list[tuple[float, int, bytes]] = []
    order = 0
    for copy in range(copies):
        shift = copy * stagger_s
        for headers in template:
            rewritten = []
            at = start
            for key, value in headers:
                if key in ID_KEYS and "." in value:
                    head, _, seq = value.partition(".")
                    value = f"{head}.{copy}{int(seq):04d}"
                elif key in CHANNEL_KEYS and "-" in value:
                    base, _, suffix = value.rpartition("-")
                    value = f"{base}-{copy:04x}{suffix[-4:]}"
                elif key == "Timestamp":
                    at = float(value) + shift
                    value = f"{at:.6f}"
                rewritten.append((key, value))
            timed.append((at, order, encode(rewritten)))
            order += 1
    timed.sort()
    return b"".join(raw for _, _, raw in timed), len(timed), 20 * copies


def blast_server(stream: bytes, ready: multiprocessing.Queue, rate: float = 0.0) -> None:  # type: ignore[type-arg]
    """Asterisk's part, in its own process: log the bridge in, answer its resync, then send everything
    (as fast as TCP takes it, or `rate` events per second in 10 ms slices)."""

    async def main() -> None:
        simulator = AmiSimulator(track_state=False)
        original = simulator._answer
        sent = asyncio.Event()

        async def answer(client, action):  # type: ignore[no-untyped-def]
            keep = await original(client, action)
            if (action.get("Action") or "").lower() == "queuestatus" and not sent.is_set():
                sent.set()
                await asyncio.sleep(0.2)
                if rate <= 0:
                    client.writer.write(stream)
                    await client.writer.drain()
                else:
                    await paced(client.writer, stream, rate)
            return keep

        simulator._answer = answer  # type: ignore[method-assign]
        _host, port = await simulator.start()
        ready.put(port)
        await asyncio.sleep(3600)

    asyncio.run(main())


async def paced(writer: asyncio.StreamWriter, stream: bytes, rate: float) -> None:
    ends = []
    at = stream.find(b"\r\n\r\n")
    while at >= 0:
        ends.append(at + 4)
        at = stream.find(b"\r\n\r\n", at + 4)
    per_slice = max(1, int(rate / 100))
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), 0
    for i in range(0, len(ends), per_slice):
        chunk_end = ends[min(i + per_slice, len(ends)) - 1]
        writer.write(stream[sent:chunk_end])
        sent = chunk_end
        await writer.drain()
        due = start + (i + per_slice) / rate
        await asyncio.sleep(max(0.0, due - loop.time()))


def bare_panoramisk(stream: bytes) -> float:
    """Messages/s for panoramisk's own parsing of the same bytes (its data_received loop, minus I/O)."""
    from panoramisk.message import Message

    text_stream = stream.decode("utf8", "ignore")
    started = time.perf_counter()
    count = 0
    for part in text_stream.split("\r\n\r\n"):
        if Message.from_line(part.strip()) is not None:
            count += 1
    return count / (time.perf_counter() - started)


async def run_bridge(port: int, url: str, redis_url: str, selected: int, calls: int) -> dict[str, float]:
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    redis.Redis.from_url(redis_url).flushdb()
    client = aioredis.Redis.from_url(redis_url)
    options = BridgeOptions("127.0.0.1", port, "hotline", "hotline-secret", ping_interval_s=60)
    bridge = Bridge(options, make_session_factory(engine), client)
    task = asyncio.create_task(bridge.run())
    await bridge.ready.wait()
    first = None
    while bridge.core.events < selected:
        if first is None and bridge.core.events:
            first = time.perf_counter()
        await asyncio.sleep(0.001)
    parsed_at = time.perf_counter()
    while bridge.writer.pending:
        await asyncio.sleep(0.005)
    done = time.perf_counter()
    with make_session_factory(engine)() as session:
        rows = session.scalar(select(func.count()).select_from(Call))
    result = {
        "seconds": done - (first or done),
        "events_to_state_s": parsed_at - (first or parsed_at),
        "p50": bridge.latency.percentile(0.5) or 0.0,
        "p99": bridge.latency.percentile(0.99) or 0.0,
        "rows": float(rows or 0),
        "calls": float(calls),
    }
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await client.aclose()
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=160)
    parser.add_argument("--stagger", type=float, default=0.5, help="seconds between copies (sets concurrency)")
    parser.add_argument("--rate", type=float, default=0.0, help="events/s to send at (0: as fast as possible)")
    parser.add_argument(
        "--url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    if not BURST.exists():
        sys.exit(f"recorded burst not found at {BURST}: this benchmark needs ../shared/fixtures")
    stream, messages, calls = scaled_stream(args.copies, args.stagger)
    selected = sum(
        1
        for raw in FrameDecoder(expect_banner=False).split(stream)
        if isinstance(raw, bytes) and wants(raw) and b"\r\nActionID: " not in raw
    )
    print(
        f"stream: {messages:,} events ({len(stream) / 1e6:.1f} MB), {calls:,} calls, {selected:,} parsed by the bridge"
    )
    ceiling = bare_panoramisk(stream)
    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=blast_server, args=(stream, ready, args.rate), daemon=True)
    server.start()
    try:
        port = ready.get(timeout=30)
        result = asyncio.run(run_bridge(port, args.url, args.redis, selected, calls))
    finally:
        server.terminate()
    rate = messages / result["seconds"]
    print(f"bare panoramisk parse (ceiling): {ceiling:,.0f} messages/s")
    print(
        f"bridge end to end: {rate:,.0f} events/s ({result['seconds']:.2f} s to the last row; "
        f"live state done at {result['events_to_state_s']:.2f} s)"
    )
    print(f"latency read -> live state published: p50 {result['p50'] * 1000:.1f} ms, p99 {result['p99'] * 1000:.1f} ms")
    if args.rate <= 0:
        print(f"ratio to bare panoramisk: {rate / ceiling:.2f} (target >= 0.33); target >= 20,000 events/s")
    else:
        print(f"(paced at {args.rate:,.0f} events/s: the rate above is the pace, not a ceiling)")
    print(f"call rows written: {result['rows']:,.0f} of {result['calls']:,.0f} calls")
    # A line of parse overhead numbers to check the selector's share of the work.
    sample = stream[:2_000_000]
    started = time.perf_counter()
    n = sum(
        1 for raw in FrameDecoder(expect_banner=False).split(sample) if isinstance(raw, bytes) and parse_fields(raw)
    )
    print(
        f"(for reference: full parse of every message with our decoder: {n / (time.perf_counter() - started):,.0f}/s)"
    )


if __name__ == "__main__":
    main()
