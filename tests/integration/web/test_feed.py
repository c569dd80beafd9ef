"""The live feed: who may see which entry, and the event stream over a real Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis
from fastapi.testclient import TestClient

from hotline.api.routes.feed import entry_visible, follow
from hotline.bootstrap import Context
from hotline.live.feed import FEED_STREAM
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role

LAWYER = Actor(1, Role.LAWYER)
SUPERVISOR = Actor(2, Role.SUPERVISOR)
STATION = Actor(3, Role.STATION_STAFF, "/1/7/")


def test_entries_are_filtered_per_role() -> None:
    call = {"type": "call", "linkedid": "1.1", "state": "waiting", "caller": "138****1234"}
    alert = {"type": "ticket.escalated", "audience": "supervisor", "station_id": 7, "escalated_to_id": 1}
    own = {"type": "ticket.event", "code": "12348-20261127-000001", "station_id": 7}
    other = {"type": "ticket.event", "code": "12348-20261127-000002", "station_id": 9}
    assert all(entry_visible(e, SUPERVISOR, frozenset()) for e in (call, alert, own, other))
    assert entry_visible(call, LAWYER, frozenset()) and entry_visible(own, LAWYER, frozenset())
    assert not entry_visible(alert, LAWYER, frozenset())
    stations = frozenset({7, 8})
    assert entry_visible(own, STATION, stations) and entry_visible(alert, STATION, stations)
    assert not entry_visible(other, STATION, stations) and not entry_visible(call, STATION, stations)


def test_the_feed_is_for_signed_in_users(client: TestClient) -> None:
    response = client.get("/api/feed")
    assert response.status_code == 401 and response.json()["error"]["id"] == "not_authenticated"


def _events(chunks: list[str]) -> list[dict[str, Any]]:
    """The events in the text, as a browser's EventSource splits them (a blank line ends one)."""
    out = []
    for block in "".join(chunks).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines() if not line.startswith(":"))
        if "data" in fields:
            out.append({"id": fields.get("id"), "event": fields.get("event"), "data": json.loads(fields["data"])})
    return out


def test_the_stream_sends_a_snapshot_then_new_entries_and_resumes_after_an_id(context: Context) -> None:
    async def scenario() -> None:
        client = aioredis.Redis.from_url(context.redis.url)
        old = await client.xadd(FEED_STREAM, {"data": json.dumps({"type": "queue", "queue": "consult"})})

        async def snapshot() -> dict[str, Any]:
            return {"live": {"queues": []}}

        async def take(start: str, fresh: bool, count: int, add: list[dict[str, Any]]) -> list[str]:
            stream = follow(client, start, lambda e: e.get("type") != "secret", snapshot, fresh, block_ms=50)
            chunks = [await anext(stream) for _ in range(2 if fresh else 1)]  # retry (+ snapshot)
            for entry in add:
                await client.xadd(FEED_STREAM, {"data": json.dumps(entry)})
            while len(_events(chunks)) < count:
                chunks.append(await anext(stream))
            await stream.aclose()
            return chunks

        fresh = _events(await take("$", True, 2, [{"type": "secret"}, {"type": "call", "linkedid": "9.9"}]))
        assert fresh[0]["event"] == "snapshot" and fresh[0]["id"] == old.decode()
        assert [e["data"].get("linkedid") for e in fresh[1:]] == ["9.9"]  # the filtered entry never left
        resumed = _events(await take(old.decode(), False, 1, []))
        assert resumed[0]["event"] is None and resumed[0]["data"]["linkedid"] == "9.9"
        await client.xtrim(FEED_STREAM, maxlen=1, approximate=False)
        trimmed = _events(await take(old.decode(), False, 1, []))
        assert trimmed[0]["event"] == "snapshot"  # what it missed is gone: start again from a snapshot
        await client.aclose()

    asyncio.run(scenario())


def test_entries_waiting_together_go_out_in_one_write_as_stored(context: Context) -> None:
    """A batch is one chunk (one trip through the server, proxy and TLS), each entry's stored JSON
    sent as is, the hidden ones left out, and a malformed one skipped."""

    async def scenario() -> None:
        client = aioredis.Redis.from_url(context.redis.url)

        async def snapshot() -> dict[str, Any]:
            return {"live": None}

        stream = follow(client, "$", lambda e: e.get("type") != "secret", snapshot, True, block_ms=50)
        assert (await anext(stream)).startswith("retry") and "snapshot" in await anext(stream)
        entries = [{"type": "call", "linkedid": f"{i}.1", "queue": "咨询"} for i in range(3)]
        stored = [json.dumps(entry, ensure_ascii=False) for entry in entries]
        for data in (stored[0], json.dumps({"type": "secret"}), "{not json", stored[1], stored[2]):
            await client.xadd(FEED_STREAM, {"data": data})
        while (chunk := await anext(stream)).startswith(":"):
            pass
        assert [line.removeprefix("data: ") for line in chunk.splitlines() if line.startswith("data:")] == stored
        assert [e["data"]["linkedid"] for e in _events([chunk])] == ["0.1", "1.1", "2.1"]
        await stream.aclose()
        await client.aclose()

    asyncio.run(scenario())


def test_an_open_stream_ends_when_its_session_does(context: Context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hotline.api.routes.feed

    monkeypatch.setattr(hotline.api.routes.feed, "SESSION_RECHECK_S", 0.0)
    signed = {"in": True}

    async def still_signed_in() -> bool:
        return signed["in"]

    async def scenario() -> None:
        client = aioredis.Redis.from_url(context.redis.url)

        async def snapshot() -> dict[str, Any]:
            return {"live": None}

        stream = follow(client, "$", lambda e: True, snapshot, True, block_ms=50, still_signed_in=still_signed_in)
        assert (await anext(stream)).startswith("retry")
        assert "snapshot" in await anext(stream)
        await client.xadd(FEED_STREAM, {"data": json.dumps({"type": "call", "linkedid": "1.1"})})
        while "1.1" not in (chunk := await anext(stream)):
            assert chunk.startswith(":")
        signed["in"] = False  # logged out (or expired) while the stream is open
        await client.xadd(FEED_STREAM, {"data": json.dumps({"type": "call", "linkedid": "2.2"})})
        rest = [chunk async for chunk in stream]  # the stream ends by itself
        assert not any("2.2" in chunk for chunk in rest)
        assert _events(rest)[-1]["event"] == "expired"
        await client.aclose()

    asyncio.run(scenario())


def test_consoles_on_one_process_share_one_reader_and_a_late_one_fills_its_gap(context: Context) -> None:
    """Two consoles through the process's hub: the one resuming from an old entry gets everything
    after it once (the gap read from the stream, then the hub's batches), in order, like the fresh one."""
    from hotline.live.feed_hub import FeedHub

    async def scenario() -> None:
        client = aioredis.Redis.from_url(context.redis.url)
        hub = FeedHub(context.redis.url, block_ms=50)

        async def snapshot() -> dict[str, Any]:
            return {"live": None}

        def call(i: int) -> dict[str, str]:
            return {"data": json.dumps({"type": "call", "linkedid": f"{i}.7"})}

        old = (await client.xadd(FEED_STREAM, call(0))).decode()
        for i in (1, 2):  # written before either console opened: the resuming one has missed them
            await client.xadd(FEED_STREAM, call(i))
        fresh = follow(client, "$", lambda e: True, snapshot, True, block_ms=50, hub=hub)
        resumed = follow(client, old, lambda e: True, snapshot, False, block_ms=50, hub=hub)
        assert "snapshot" in await anext(fresh) + await anext(fresh)
        assert (await anext(resumed)).startswith("retry")
        for i in (3, 4, 5):
            await client.xadd(FEED_STREAM, call(i))

        async def linkedids(stream: Any, until: str) -> list[str]:
            seen: list[str] = []
            while until not in seen:
                seen += [e["data"]["linkedid"] for e in _events([await anext(stream)]) if e["event"] is None]
            return seen

        assert await linkedids(fresh, "5.7") == ["3.7", "4.7", "5.7"]
        assert await linkedids(resumed, "5.7") == ["1.7", "2.7", "3.7", "4.7", "5.7"]
        assert len(hub._subscriptions) == 2  # one reader for both
        await fresh.aclose()
        await resumed.aclose()
        assert not hub._subscriptions
        await hub.close()
        await client.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 30))
