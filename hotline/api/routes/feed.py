"""The consoles' live feed: server-sent events that follow the Redis stream `hotline:feed`.

One blocking XREAD per API process, shared by its open consoles (hotline.live.feed_hub), so a change
reaches the page as soon as the bridge writes it, with no polling; each entry is parsed once per
process and a batch goes out in one write. A fresh connection first gets a `snapshot` event (GET
/api/live's body) taken after noting the stream's position, then every entry after that position;
the few entries that both contain are harmless, since each states a whole state. A reconnecting browser sends
Last-Event-ID and resumes there; when that entry has been trimmed from the stream, it gets a new
snapshot instead. Entries are filtered per role: lawyers get the telephony and ticket entries but
not supervisors' alerts; station staff only ticket entries of their station and those below it.
Numbers in the feed are already masked by the bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import anyio
import redis
import redis.asyncio as aioredis
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from hotline.api.errors import NotAuthenticated
from hotline.api.sessions import signed_in
from hotline.bootstrap import Context
from hotline.live.feed import FEED_STREAM
from hotline.live.feed_hub import FeedHub, Subscription, stream_entries
from hotline.redis_conn import aclose_client, async_redis_client
from hotline.reports.live import live_state
from storage.tables import Station
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role, mask_phone

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/feed", tags=["live"])

#: How long one XREAD waits; a comment line goes out after each quiet wait (keeps proxies open and
#: notices a browser that left).
BLOCK_MS = 10_000
BATCH = 500
RETRY_MS = 3_000
#: How often an open stream checks that its session is still valid (logout, expiry, account disabled).
SESSION_RECHECK_S = 5.0
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
TICKET_TYPES = frozenset({"ticket.event", "ticket.escalated"})


def entry_visible(entry: dict[str, Any], actor: Actor, stations: frozenset[int]) -> bool:
    """Whether `actor` may see one feed entry."""
    if actor.sees_everything:
        return True
    if actor.role is Role.LAWYER:
        return entry.get("audience") != "supervisor"
    if actor.role is Role.STATION_STAFF:
        return entry.get("type") in TICKET_TYPES and bool(
            {entry.get("station_id"), entry.get("escalated_to_id")} & stations
        )
    return False


def _stations_below(context: Context, actor: Actor) -> frozenset[int]:
    if actor.role is not Role.STATION_STAFF or not actor.station_path:
        return frozenset()
    with context.sessions() as session:
        found = session.scalars(select(Station.id).where(Station.path.startswith(actor.station_path)))
        return frozenset(found)


def sse(data: dict[str, Any], event: str | None = None, entry_id: str | None = None) -> str:
    lines = []
    if entry_id:
        lines.append(f"id: {entry_id}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str))
    return "\n".join(lines) + "\n\n"


async def follow(
    client: aioredis.Redis,
    start: str,
    keep: Callable[[dict[str, Any]], bool],
    snapshot: Callable[[], Awaitable[dict[str, Any]]],
    fresh: bool,
    *,
    block_ms: int = BLOCK_MS,
    still_signed_in: Callable[[], Awaitable[bool]] | None = None,
    hub: FeedHub | None = None,
) -> AsyncIterator[str]:
    """The event-stream text: `retry`, maybe a snapshot, then entries after `start` until the session
    ends: `still_signed_in` is asked at least every SESSION_RECHECK_S before anything more goes out,
    and a stream whose session ended gets an `expired` event and closes. With `hub`, new entries come
    from the process's one reader (hotline.live.feed_hub) instead of an XREAD of this stream's own."""
    # Subscribed before the snapshot is taken: nothing written meanwhile is missed.
    with hub.subscription() if hub is not None else contextlib.nullcontext() as subscription:
        checked = time.monotonic()

        async def session_ended() -> bool:
            nonlocal checked
            if still_signed_in is None or time.monotonic() - checked < SESSION_RECHECK_S:
                return False
            checked = time.monotonic()
            return not await still_signed_in()

        yield f"retry: {RETRY_MS}\n\n"
        last = start
        if not fresh:
            first = await client.xrange(FEED_STREAM, count=1)
            if first and _older(last, first[0][0].decode()):
                fresh = True  # the browser's last entry was trimmed away: what it missed is unknown
        if fresh:
            newest = await client.xrevrange(FEED_STREAM, count=1)
            last = newest[0][0].decode() if newest else "0-0"
            yield sse(await snapshot(), event="snapshot", entry_id=last)
        while True:
            if subscription is None:
                found = await client.xread({FEED_STREAM: last}, block=block_ms, count=BATCH)
                entries = stream_entries(found or [])
            else:
                entries = await _next_from_hub(client, subscription, last)
            if await session_ended():
                yield sse({"message": "登录已过期，请重新登录 / session ended; sign in again"}, event="expired")
                return
            if not entries:
                yield ": quiet\n\n"
                continue
            # One write per batch, not per entry: under load a batch holds many entries, and each write
            # is a trip through the ASGI server, the proxy and TLS.
            out = []
            for entry_id, raw in entries:
                last = entry_id
                entry = _parsed(last, raw)
                if entry is None:
                    logger.warning("feed entry %s is not JSON; skipped", last)
                    continue
                if keep(entry):
                    # The stored text is one line of JSON (append_to_feed): it goes out as stored.
                    out.append(f"id: {last}\ndata: {raw.decode()}\n\n")
            if out:
                yield "".join(out)


async def _next_from_hub(client: aioredis.Redis, subscription: Subscription, last: str) -> list[tuple[str, bytes]]:
    """The hub's next batch as this stream needs it: the gap between `last` and where the hub read
    from filled from the stream, and what this stream already sent left out."""
    if subscription.dropped and subscription.queue.empty():
        raise redis.ConnectionError("this console fell too far behind the feed")
    batch = await subscription.queue.get()
    if batch.error is not None:
        raise redis.ConnectionError(batch.error)
    entries = batch.entries
    gap: list[tuple[str, bytes]] = []
    while _older(gap[-1][0] if gap else last, batch.after):
        found = await client.xrange(FEED_STREAM, min=f"({gap[-1][0] if gap else last}", max=batch.after, count=BATCH)
        if not found:
            break
        gap += [(raw_id.decode(), fields.get(b"data", b"{}")) for raw_id, fields in found]
    entries = gap + entries
    return [(entry_id, raw) for entry_id, raw in entries if _older(last, entry_id)]


#: Entries parsed recently, by id, shared by every stream of this process: an entry is parsed once,
#: not once per open console (entries never change; the filter only reads them).
_PARSED: dict[str, dict[str, Any] | None] = {}
_PARSED_MAX = 4096


def _parsed(entry_id: str, raw: bytes) -> dict[str, Any] | None:
    if entry_id in _PARSED:
        return _PARSED[entry_id]
    try:
        entry = json.loads(raw)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        entry = None
    if len(_PARSED) >= _PARSED_MAX:
        for old in list(_PARSED)[: _PARSED_MAX // 2]:  # the oldest half (dicts keep insertion order)
            del _PARSED[old]
    _PARSED[entry_id] = entry
    return entry


def _older(entry_id: str, than: str) -> bool:
    a, b = (tuple(int(p) for p in i.split("-")) for i in (entry_id, than))
    return a < b


@router.get(
    "",
    summary="Live feed (server-sent events): a snapshot, then calls, lawyers, queues and ticket events as they happen",
    response_class=StreamingResponse,
)
async def feed(
    request: Request,
    last_event_id: Annotated[str | None, Header(max_length=45)] = None,
    since: Annotated[str | None, Query(max_length=45, description="resume after this entry id")] = None,
) -> StreamingResponse:
    context: Context = request.app.state.context
    user = await asyncio.to_thread(signed_in, request, context)
    if user is None:
        raise NotAuthenticated("请先登录 / sign in first (POST /api/auth/login)")
    actor = user.actor
    stations = await asyncio.to_thread(_stations_below, context, actor)
    resume = last_event_id or since
    fresh = resume is None or not _ENTRY_ID.match(resume)

    async def snapshot() -> dict[str, Any]:
        if actor.role is Role.STATION_STAFF:
            return {"live": None}
        try:
            state = await asyncio.to_thread(live_state, context, actor)
        except Exception as exc:  # Redis away: the page says so and the stream retries
            logger.warning("feed snapshot for user %d failed: %s", actor.user_id, exc)
            return {"live": None, "error": "实时状态不可用 / live state unavailable"}
        for call in state["calls"]:  # masked for everyone, like the feed's entries (screen-pop shows more)
            call["caller_number"] = mask_phone(call.get("caller_number"))
        return {"live": state}

    async def still_signed_in() -> bool:
        again = await asyncio.to_thread(signed_in, request, context)
        return again is not None and again.actor.user_id == actor.user_id

    async def body() -> AsyncIterator[str]:
        client = async_redis_client(context.redis.url, socket_timeout=BLOCK_MS / 1000 + 5)
        keep = lambda entry: entry_visible(entry, actor, stations)  # noqa: E731
        start = "$" if fresh else str(resume)
        try:
            hub = getattr(request.app.state, "feed_hub", None)
            async for chunk in follow(client, start, keep, snapshot, fresh, still_signed_in=still_signed_in, hub=hub):
                yield chunk
        except (redis.RedisError, OSError, DBAPIError) as exc:
            logger.warning("feed for user %d stopped: Redis or the database unavailable (%s)", actor.user_id, exc)
            yield sse({"message": "实时数据中断，正在重连 / live feed interrupted; reconnecting"}, event="failure")
        finally:
            # Starlette cancels the stream when the browser leaves; close the connection regardless.
            with anyio.CancelScope(shield=True):
                await aclose_client(client)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream; charset=utf-8", headers=headers)
