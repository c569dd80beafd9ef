"""The ASGI application of a service process: the API's routers (hotline/api/), the consoles' pages
(hotline/web/), error handlers, the request size limit, and the outbox relay and scheduler loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hotline.api.body_limit import MAX_BODY_BYTES, BodyLimit
from hotline.api.errors import install_error_handlers
from hotline.api.openapi import install_openapi
from hotline.api.origin import SameOrigin
from hotline.api.routes import (
    admin,
    alerts,
    audit,
    auth,
    calls,
    console,
    dashboard,
    demo,
    feed,
    follow_up,
    forwarding,
    health,
    labels,
    live,
    recordings,
    rosters,
    routing,
    stations,
    statistics,
    tickets,
    users,
)
from hotline.api.routes.metrics import install_metrics
from hotline.bootstrap import Context
from hotline.jobs.outbox import relay_forever
from hotline.jobs.scheduler import schedule_forever, scheduler_lease
from hotline.live.feed_hub import FeedHub
from hotline.supervise import supervise_process, supervise_task
from hotline.web import install_web

logger = logging.getLogger(__name__)


def create_app(
    context: Context,
    relay_outbox: bool = False,
    on_shutdown: Callable[[], None] | None = None,
    with_bridge: bool = False,
    schedule_jobs: bool | None = None,
    processes: dict[str, list[str]] | None = None,
    process_env: dict[str, str] | None = None,
) -> FastAPI:
    """The application; with `relay_outbox` it also moves outbox rows to the job queue; with
    `schedule_jobs` (by default: with `relay_outbox`) it enqueues the periodic jobs (hotline.jobs.scheduler);
    with `with_bridge` it runs the telephony bridge in this process (one-machine installs, demo mode);
    `processes` (name → command) are child processes it keeps running (the job workers). The bridge
    and the processes are supervised: restarted with backoff when they stop (hotline.supervise).

    `on_shutdown` runs when the server stops: uvicorn re-raises SIGTERM after its graceful shutdown,
    so code after `uvicorn.run` would never run.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if relay_outbox:
            tasks.append(asyncio.create_task(relay_forever(context.sessions, context.redis.client)))
        if relay_outbox if schedule_jobs is None else schedule_jobs:
            tasks.append(asyncio.create_task(schedule_forever(scheduler_lease(context))))
        if with_bridge:
            from hotline.bridge.runner import run_bridge

            tasks.append(asyncio.create_task(supervise_task("bridge", lambda: run_bridge(context))))
        for name, argv in (processes or {}).items():
            tasks.append(asyncio.create_task(supervise_process(name, argv, process_env)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await app.state.feed_hub.close()
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="12348 公共法律服务热线 API",
        description="Work orders, stations, staff and call data of the 12348 public legal service hotline.",
        version="0.1.0",
        # /docs and /redoc are served by hotline.web.pages from npm packages (FastAPI's own load a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    # One reader of the live feed for every console open on this process.
    app.state.feed_hub = FeedHub(context.redis.url)
    install_error_handlers(app)

    routers = [
        module.router
        for module in (
            health,
            labels,
            auth,
            tickets,
            calls,
            live,
            rosters,
            stations,
            users,
            forwarding,
            follow_up,
            statistics,
            routing,
            feed,
            console,
            dashboard,
            audit,
            demo,
            alerts,
            admin,
            recordings,
        )
    ]
    for router in routers:
        app.include_router(router)
    install_openapi(app, routers)
    install_web(app)
    install_metrics(app, context)
    # Added last, so outermost: the body limit counts bytes as they arrive, before routes, parsers
    # and sign-in see them.
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    return app
