"""Drive the real IVR server over TCP with simulated Asterisk sessions (ivr.asterisk_sim, checked byte
for byte against the recorded Asterisk 22 sessions) on the suite's real database and Redis."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.bootstrap import Context
from ivr.app import start_ivr_server
from ivr.asterisk_sim import Action, SimulatedCall, make_env
from ivr.menu_checks import load_ivr_config
from ivr.menu_config import IvrFile
from ivr.waiting import LIVE_QUEUES_KEY
from storage.tables import IvrSession

TZ = ZoneInfo("Asia/Shanghai")
#: A Tuesday morning: every queue is open.
OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
CALLER = "13808081234"
_serial = itertools.count(100)


def call(*actions: str | Action, callerid: str = CALLER, **options: Any) -> SimulatedCall:
    uniqueid = options.pop("uniqueid", None) or f"1795449{next(_serial):03d}.{next(_serial)}"
    script = options.pop("script", "ivr")
    args = options.pop("args", ())
    env = make_env(uniqueid=uniqueid, callerid=callerid, script=script, args=args)
    return SimulatedCall(env, actions=list(actions), **options)  # type: ignore[arg-type]


def uniqueid(simulated: SimulatedCall) -> str:
    return dict(simulated.env)["agi_uniqueid"]


def played(simulated: SimulatedCall) -> list[str]:
    """Prompt names the caller heard (STREAM FILE and GET DATA), in order."""
    names = []
    for command in simulated.commands:
        if command.startswith(("STREAM FILE ", "GET DATA ")):
            names.append(command.split(" ")[2].rsplit("/", 1)[-1])
    return names


@dataclass
class Ivr:
    context: Context

    def config(self, **changes: Any) -> IvrFile:
        """The sample ivr.yaml with top-level sections replaced (dicts are merged one level deep)."""
        base = load_ivr_config(self.context.settings.config_dir, self.context.config)
        data = base.model_dump()
        for key, value in changes.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data[key], dict) else value
        return IvrFile.model_validate(data)

    def run(
        self,
        *calls: SimulatedCall,
        at: datetime = OPEN,
        config: IvrFile | None = None,
        between: Callable[[], None] | None = None,
    ) -> list[SimulatedCall]:
        """Start the server, run the calls (concurrently, or one by one with `between` after each)."""

        async def main() -> None:
            server = await start_ivr_server(self.context, "127.0.0.1", 0, clock=lambda: at, config=config)
            host, port = server.address
            try:
                if between is None:
                    await asyncio.gather(*(c.run(host, port, timeout=20) for c in calls))
                else:
                    for c in calls:
                        await c.run(host, port, timeout=20)
                        between()
            finally:
                server.close()
                await server.wait_closed()

        asyncio.run(main())
        return list(calls)

    def session(self, simulated: SimulatedCall) -> IvrSession:
        with self.context.sessions() as db:
            row = db.scalar(select(IvrSession).where(IvrSession.uniqueid == uniqueid(simulated)))
            assert row is not None, f"no ivr_sessions row for {uniqueid(simulated)}"
            return row

    def live(self, queue: str, at: datetime = OPEN, **values: Any) -> None:
        state = {
            "queue": queue,
            "waiting": 0,
            "oldest_joined_at": None,
            "members_on_duty": 2,
            "members_available": 1,
            "members_paused": 0,
            "talking": 1,
            "avg_handle_s": 240.0,
            "updated_at": at.timestamp(),
        }
        state.update(values)
        self.context.redis.client.hset(LIVE_QUEUES_KEY, queue, json.dumps(state))


@pytest.fixture
def ivr(context: Context) -> Ivr:
    return Ivr(context)
