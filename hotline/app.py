"""The ASGI application of a service process: the API's routers (hotline/api/), the consoles' pages
(hotline/web/), error handlers, the request size limit, and the outbox relay and scheduler loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from hotline.api.errors import error_body, install_error_handlers
from hotline.api.routes import (
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
    live,
    rosters,
    routing,
    stations,
    statistics,
    tickets,
    users,
)
from hotline.api.routes.metrics import install_metrics
from hotline.bootstrap import Context
from hotline.jobs.outbox import relay_pending
from hotline.jobs.scheduler import schedule_forever, scheduler_lease
from hotline.web import install_web

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
RELAY_INTERVAL_S = 0.5


async def _relay_forever(context: Context) -> None:
    while True:
        try:
            await asyncio.to_thread(relay_pending, context.sessions, context.redis.client)
        except Exception:
            logger.exception("outbox relay pass failed; retrying")
        await asyncio.sleep(RELAY_INTERVAL_S)


async def _logged(work: Awaitable[None], what: str) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("%s stopped on an unexpected error", what)


def create_app(
    context: Context,
    relay_outbox: bool = False,
    on_shutdown: Callable[[], None] | None = None,
    with_bridge: bool = False,
    schedule_jobs: bool | None = None,
) -> FastAPI:
    """The application; with `relay_outbox` it also moves outbox rows to the job queue; with
    `schedule_jobs` (by default: with `relay_outbox`) it enqueues the periodic jobs (hotline.jobs.scheduler);
    with `with_bridge` it runs the telephony bridge in this process (one-machine installs, demo mode).

    `on_shutdown` runs when the server stops: uvicorn re-raises SIGTERM after its graceful shutdown,
    so code after `uvicorn.run` would never run.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if relay_outbox:
            tasks.append(asyncio.create_task(_relay_forever(context)))
        if relay_outbox if schedule_jobs is None else schedule_jobs:
            tasks.append(asyncio.create_task(schedule_forever(scheduler_lease(context))))
        if with_bridge:
            from hotline.bridge.runner import run_bridge

            tasks.append(asyncio.create_task(_logged(run_bridge(context), "bridge")))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="12348 公共法律服务热线 API",
        description="Work orders, stations, staff and call data of the 12348 public legal service hotline.",
        version="0.1.0",
    )
    app.state.context = context
    install_error_handlers(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return error_body(
                413,
                "payload_too_large",
                f"请求体过大 / request body over {MAX_BODY_BYTES} bytes",
                {"limit": MAX_BODY_BYTES},
            )
        return await call_next(request)

    for module in (
        health,
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
    ):
        app.include_router(module.router)
    install_web(app)
    install_metrics(app, context)
    return app
