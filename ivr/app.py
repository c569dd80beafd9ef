"""Entry point: build the IVR from what its process passes in (`IvrContext`) and serve it over FastAGI.

    server = await start_ivr_server(context, settings.agi_host, settings.agi_port)
    ...
    server.close()
    await server.wait_closed()   # lets calls in the menus finish (up to a grace period)

The bridge process and the all-in-one `hotline serve` run it beside their own work; `hotline ivr`
runs it alone. The IVR imports nothing of theirs: hotline's bootstrap `Context` is one `IvrContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from ivr.blocking import CallerGuard
from ivr.caller_lookup import CallerLookup
from ivr.channel import AgiChannel
from ivr.flow import IvrCall
from ivr.hours import ServiceHours
from ivr.menu_checks import load_ivr_config
from ivr.menu_config import IvrFile
from ivr.prompts import PromptFiles, missing_prompt_files
from ivr.recorder import SessionRecorder
from ivr.records import caller_profiles, save_sessions
from ivr.server import AgiStats, FastAgiServer
from ivr.services import IvrServices, LiveQueues
from ivr.session import CallerProfile, IvrSessionState
from ivr.survey import run_survey
from ivr.waiting import live_queues_key
from settings.env import Settings
from settings.files import HotlineConfig
from ticketing.domain.policy import TicketPolicy

logger = logging.getLogger(__name__)

#: Worker threads for database work; matches the engine's default pool so threads never wait for it.
DB_THREADS = 8
REDIS_CONNECTIONS = 32


class _RedisAddress(Protocol):
    @property
    def url(self) -> str: ...

    def async_client(self, max_connections: int | None = None) -> aioredis.Redis:
        """A new asyncio client (a server or a Sentinel-managed master), at most `max_connections`."""
        ...


class IvrContext(Protocol):
    """What the IVR takes from the process that runs it, built once there (hotline/bootstrap.py)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def config(self) -> HotlineConfig: ...
    @property
    def sessions(self) -> sessionmaker[Session]: ...
    @property
    def policy(self) -> TicketPolicy: ...
    @property
    def redis(self) -> _RedisAddress: ...


def build_services(
    context: IvrContext, config: IvrFile | None = None, clock: Callable[[], datetime] | None = None
) -> IvrServices:
    """Everything sessions share. Raises ConfigError when config/ivr.yaml has problems."""
    config = config or load_ivr_config(context.settings.config_dir, context.config)
    # A bounded pool: a burst of calls waits briefly for a connection instead of opening hundreds.
    redis = context.redis.async_client(max_connections=REDIS_CONNECTIONS)
    executor = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="ivr-db")

    async def write(states: Sequence[IvrSessionState]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, save_sessions, context.sessions, states)

    async def lookup(numbers: Collection[str]) -> dict[str, CallerProfile]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, caller_profiles, context.sessions, numbers)

    return IvrServices(
        config=config,
        hotline=context.config,
        hours=ServiceHours.from_config(
            context.config.service_hours, config, context.policy.calendar, context.policy.tz
        ),
        prompts=PromptFiles.from_config(config),
        guard=CallerGuard(config.blocking, redis),
        redis=redis,
        sessions=context.sessions,
        policy=context.policy,
        executor=executor,
        clock=clock or (lambda: datetime.now(UTC)),
        recorder=SessionRecorder(write),
        live=LiveQueues(redis, live_queues_key(context.settings.node)),
        callers=CallerLookup(lookup),
    )


class IvrServer:
    """The listening FastAGI server with the resources its sessions share. Offers the parts of
    asyncio.Server's interface a host process needs: sockets, close(), wait_closed(), serve_forever()."""

    def __init__(self, agi: FastAgiServer, server: asyncio.Server, services: IvrServices) -> None:
        self.agi = agi
        self.server = server
        self.services = services
        self._released = False

    @property
    def sockets(self) -> tuple[object, ...]:
        return tuple(self.server.sockets)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.sockets[0].getsockname()[:2]
        return host, port

    @property
    def stats(self) -> AgiStats:
        return self.agi.stats

    def is_serving(self) -> bool:
        return self.server.is_serving()

    def close(self) -> None:
        """Stop accepting calls; sessions in progress go on."""
        self.server.close()

    async def wait_closed(self, grace_s: float = 30.0) -> None:
        """Wait (up to `grace_s`) for sessions in progress, cancel the rest, release resources."""
        self.server.close()
        pending = set(self.agi.sessions)
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace_s)
            for task in still:
                task.cancel()
            if still:
                logger.warning("%d IVR sessions cut short at shutdown", len(still))
                await asyncio.wait(still, timeout=5)
        await self.server.wait_closed()
        if not self._released:
            self._released = True
            await self.services.recorder.stop()
            await self.services.redis.aclose()
            self.services.executor.shutdown(wait=False, cancel_futures=True)

    async def serve_forever(self) -> None:
        try:
            await self.server.serve_forever()
        finally:
            with contextlib.suppress(Exception):
                await self.wait_closed()

    async def __aenter__(self) -> IvrServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


async def start_ivr_server(
    context: IvrContext,
    host: str,
    port: int,
    *,
    clock: Callable[[], datetime] | None = None,
    config: IvrFile | None = None,
) -> IvrServer:
    """Check config/ivr.yaml (ConfigError on any problem), then listen on host:port for the scripts
    `ivr` (menus) and `survey` (post-call rating)."""
    services = build_services(context, config, clock)

    async def ivr(channel: AgiChannel) -> None:
        await IvrCall(services, channel).run()

    async def survey(channel: AgiChannel) -> None:
        await run_survey(services, channel)

    agi = FastAgiServer({"ivr": ivr, "survey": survey})
    try:
        server = await agi.start(host, port)
    except OSError:
        await services.redis.aclose()
        services.executor.shutdown(wait=False)
        raise
    missing = missing_prompt_files(services.config, services.prompts)
    if missing:
        logger.warning(
            "%d IVR prompt files missing under %s (e.g. %s): run `hotline ivr prompts generate`",
            len(missing),
            services.prompts.dir,
            Path(missing[0][2]).name,
        )
    services.recorder.start()
    logger.info("IVR FastAGI server on %s:%d (scripts ivr, survey)", *server.sockets[0].getsockname()[:2])
    return IvrServer(agi, server, services)
