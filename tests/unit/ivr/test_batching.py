"""Batched database work of the IVR: caller lookups share queries, finished sessions are written in
batches, retried on failure, and written before shutdown completes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import pytest

from ivr.caller_lookup import CallerLookup
from ivr.recorder import SessionRecorder
from ivr.session import CallerProfile, IvrSessionState


def test_lookups_starting_together_share_one_query() -> None:
    queries: list[list[str]] = []

    async def query(numbers: Collection[str]) -> dict[str, CallerProfile]:
        queries.append(sorted(numbers))
        return {"13900000001": CallerProfile(groups=["elderly"])}

    async def main() -> list[CallerProfile]:
        lookup = CallerLookup(query)
        numbers = ["13900000001", "13900000002", "13900000001"]
        return await asyncio.gather(*(lookup.profile(n) for n in numbers))

    first, unknown, again = asyncio.run(main())
    assert queries == [["13900000001", "13900000002"]]
    assert first.groups == ["elderly"] and again.groups == ["elderly"] and unknown == CallerProfile()


def test_a_failed_lookup_reaches_every_waiting_session() -> None:
    async def query(numbers: Collection[str]) -> dict[str, CallerProfile]:
        raise OSError("database unreachable")

    async def main() -> list[object]:
        lookup = CallerLookup(query)
        return await asyncio.gather(lookup.profile("1"), lookup.profile("2"), return_exceptions=True)

    assert [type(r) for r in asyncio.run(main())] == [OSError, OSError]


def state(n: int) -> IvrSessionState:
    return IvrSessionState(f"1795449000.{n}", None, None, datetime(2026, 11, 24, tzinfo=UTC), "zh")


def test_sessions_are_written_in_batches_and_flushed_at_stop() -> None:
    batches: list[list[str]] = []

    async def write(states: Sequence[IvrSessionState]) -> None:
        batches.append([s.uniqueid for s in states])

    async def main() -> None:
        recorder = SessionRecorder(write, max_delay_s=0.05)
        recorder.start()
        for n in range(5):
            recorder.add(state(n))
        await asyncio.sleep(0.2)
        recorder.add(state(5))
        await recorder.stop()  # written before stop returns, not lost
        assert recorder.written == 6

    asyncio.run(main())
    assert batches == [[f"1795449000.{n}" for n in range(5)], ["1795449000.5"]]


def test_failed_writes_are_retried_then_reported(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    async def flaky(states: Sequence[IvrSessionState]) -> None:
        attempts.append(len(states))
        if len(attempts) < 2:
            raise OSError("database restarting")

    async def broken(states: Sequence[IvrSessionState]) -> None:
        raise OSError("database gone")

    async def main() -> tuple[int, int]:
        kept, lost = (SessionRecorder(write, max_delay_s=0, retry_delay_s=0) for write in (flaky, broken))
        for recorder in (kept, lost):
            recorder.start()
            recorder.add(state(1))
            await recorder.stop()
        return kept.written, lost.written

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(main()) == (1, 0)
    assert attempts == [1, 1]
    assert any("lost after 3 attempts: 1795449000.1" in r.getMessage() for r in caplog.records)
