"""The `hotline` command line."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from hotline.cli.common import config_errors_exit
from hotline.cli.ivr import ivr_app
from hotline.cli.rosters import roster_app
from hotline.cli.router import router_app

app = typer.Typer(
    help="12348 公共法律服务热线 — hotline backend: service, database, configuration and accounts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (alembic migrations).", no_args_is_help=True)
config_app = typer.Typer(help="Configuration files in config/.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
kpi_app = typer.Typer(help="Queue KPIs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kpi_app, name="kpi")
app.add_typer(config_app, name="config")
app.add_typer(user_app, name="user")
app.add_typer(roster_app, name="roster")
app.add_typer(router_app, name="router")
app.add_typer(ivr_app, name="ivr")

logger = logging.getLogger("hotline.cli")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    from hotline.logging_setup import setup_logging

    setup_logging("DEBUG" if verbose else "INFO")


def _context():  # type: ignore[no-untyped-def]
    from hotline.bootstrap import build_context

    return build_context()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database or migrate it to the latest schema."""
    from settings.env import load_settings
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade

    with config_errors_exit():
        settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)} ({engine.dialect.name})")


@kpi_app.command("rebuild")
def kpi_rebuild(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local time)")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (local time)")],
) -> None:
    """Recompute the hourly KPI rollup from the calls of a period (after an import, or when the
    SL threshold setting changed)."""
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from hotline.reports.kpi import rebuild

    with config_errors_exit():
        context = _context()
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        typer.echo(f"bad date: {exc} (use YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    tz = ZoneInfo(context.settings.timezone)
    begin = datetime.combine(first, time(0), tzinfo=tz)
    finish = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    threshold = context.settings.sl_threshold_seconds
    try:
        with context.sessions.begin() as session:
            rebuild(session, begin, finish, threshold)
    finally:
        context.close()
    typer.echo(f"KPI rollup rebuilt for {first} to {last} (SL threshold {threshold} s)")


@config_app.command("check")
def config_check() -> None:
    """Validate settings and every file in config/, listing all problems at once."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ivr.menu_checks import load_ivr_config
    from settings.calendar import build_calendar
    from settings.env import load_settings
    from settings.files import load_config, walk_stations

    with config_errors_exit():
        settings = load_settings()
        config = load_config(settings.config_dir)
        ivr = load_ivr_config(settings.config_dir, config)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    missing = build_calendar(config.service_hours.calendar).missing_years([today.year, today.year + 1])
    summary = (
        f"{len(walk_stations(config.stations.root))} stations, {len(config.categories.categories)} categories, "
        f"{len(config.service_hours.queues)} queues, {len(ivr.nodes)} IVR menu nodes"
    )
    if not missing:
        typer.echo(f"configuration OK: {summary}")
        return
    typer.echo(f"configuration OK with warnings: {summary}")
    for year in missing:
        typer.echo(
            f"warning: no public holiday list for {year} (节假日安排): working days fall back to Monday-Friday; "
            f"add calendar.{year} to config/service_hours.yaml",
            err=True,
        )


@app.command("setup")
def setup(
    demo: Annotated[bool, typer.Option(help="Create the demo accounts (local mode only).")] = True,
    demo_roster: Annotated[
        bool | None,
        typer.Option(
            "--demo-roster/--no-demo-roster",
            help="Give the demo lawyers all-day shifts for 7 days (local mode only). Default: only in demo mode; "
            "with a real Asterisk ask for it, or import a real roster (hotline roster import).",
        ),
    ] = None,
) -> None:
    """Migrate the database, import stations from config/ and (locally) the demo accounts."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hotline.demo import load_demo_roster, load_demo_users
    from hotline.rosters.store import count_on
    from storage.migrate import upgrade
    from ticketing.stations import import_stations

    with config_errors_exit():
        context = _context()
    local = context.settings.env == "local"
    if demo_roster and not (demo and local):
        context.close()
        typer.echo("--demo-roster needs the demo accounts: local mode (HOTLINE_ENV=local), without --no-demo", err=True)
        raise typer.Exit(2)
    try:
        upgrade(context.engine)
        today = datetime.now(ZoneInfo(context.settings.timezone)).date()
        with context.sessions.begin() as session:
            counts = import_stations(session, context.config.stations.root)
            typer.echo(f"stations: {counts['created']} created, {counts['updated']} updated")
            if demo and local:
                created = load_demo_users(session)
                typer.echo(f"demo accounts: {len(created)} created")
                session.flush()
                if demo_roster if demo_roster is not None else context.settings.demo_mode:
                    queues = [q.name for q in context.config.service_hours.queues]
                    shifts = load_demo_roster(session, queues, today)
                    typer.echo(f"demo roster: {shifts} all-day shifts added for the next 7 days")
            shifts_today = count_on(session, [today])
        if not context.settings.demo_mode and shifts_today == 0:
            typer.echo(
                f"warning: no duty roster for {today}: Asterisk's queues get no lawyers and every caller hears "
                "that no lawyer is on duty. Load: lawyer accounts with their phones "
                "(hotline user create NAME --role lawyer --interface PJSIP/1001), then the roster "
                "(hotline roster import FILE; config/roster.sample.csv shows the columns). "
                "To try the demo lawyers instead: HOTLINE_DEMO_ROSTER=1 scripts/run (hotline setup --demo-roster).",
                err=True,
            )
    finally:
        context.close()


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="lawyer, supervisor, station_staff or admin")],
    name: Annotated[str | None, typer.Option(help="Display name, e.g. 张律师")] = None,
    station: Annotated[str | None, typer.Option(help="Division code of the user's station")] = None,
    interface: Annotated[str | None, typer.Option(help="Lawyer's SIP endpoint, e.g. PJSIP/1001")] = None,
    node: Annotated[
        str | None, typer.Option(help="Asterisk node the phone registers on (HOTLINE_NODES); default: the first")
    ] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Create a staff account (the first admin, for instance)."""
    from hotline.accounts import AccountError, create_user
    from ticketing.domain.errors import InvalidReference
    from ticketing.domain.roles import Role

    try:
        role_value = Role(role)
    except ValueError:
        typer.echo(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2) from None
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("password", hide_input=True)
    with config_errors_exit():
        context = _context()
    try:
        with context.sessions.begin() as session:
            user = create_user(session, username, password, role_value, name, station, interface, node)
            typer.echo(f"created {user.role} {user.username} (id {user.id})")
    except (AccountError, InvalidReference) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        context.close()


@user_app.command("list")
def user_list() -> None:
    """Every account: username, role, station, phone, node, active or disabled."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from hotline.account_admin import user_row
    from storage.tables import User

    with config_errors_exit():
        context = _context()
    try:
        with context.sessions() as session:
            for user in session.scalars(select(User).options(selectinload(User.station)).order_by(User.username)):
                row = user_row(user)
                typer.echo(
                    f"{row['username']:<16} {row['role_label']:<8} {row['station_name'] or '—':<20} "
                    f"{row['interface'] or '—':<14} {row['node'] or '—':<10} "
                    f"{'active' if row['is_active'] else 'DISABLED'}"
                )
    finally:
        context.close()


def _administer(username: str, act: Callable[[Any, Any, Any], str]) -> None:
    """Run one audited act on `username` (the actor is the command line: actor_id None)."""
    from hotline import account_admin
    from hotline.accounts import AccountError
    from ticketing.domain.errors import DomainError

    with config_errors_exit():
        context = _context()
    try:
        with context.sessions.begin() as session:
            user = account_admin.find_user(session, username)
            typer.echo(act(session, user, context))
    except (AccountError, DomainError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        context.close()


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable an account (its sessions end at once; audited)."""
    from hotline.account_admin import change_user

    _administer(
        username, lambda s, u, _c: f"{username}: {change_user(s, None, u, is_active=False) or 'already disabled'}"
    )


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled account (audited)."""
    from hotline.account_admin import change_user

    _administer(username, lambda s, u, _c: f"{username}: {change_user(s, None, u, is_active=True) or 'already active'}")


@user_app.command("set")
def user_set(
    username: str,
    role: Annotated[str | None, typer.Option(help="lawyer, supervisor, station_staff or admin")] = None,
    station: Annotated[str | None, typer.Option(help="Division code of the station ('' for none)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    interface: Annotated[str | None, typer.Option(help="Phone, e.g. PJSIP/1003 ('' for none)")] = None,
    node: Annotated[str | None, typer.Option(help="Asterisk node of the phone ('' for the first node)")] = None,
) -> None:
    """Change an account's role, station, name, phone or node (audited)."""
    from hotline.account_admin import change_user
    from ticketing.domain.roles import Role

    try:
        role_value = Role(role) if role else None
    except ValueError:
        typer.echo(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2) from None
    _administer(
        username,
        lambda s, u, _c: (
            f"{username}: "
            + ", ".join(
                change_user(
                    s, None, u, role=role_value, station_code=station, display_name=name, interface=interface, node=node
                )
                or ["no change"]
            )
        ),
    )


@user_app.command("reset-password")
def user_reset_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="Read the new password from standard input")] = False,
) -> None:
    """Set a new password (read from stdin, or a random one printed once); the user's sessions end."""
    from hotline.account_admin import reset_password

    given = sys.stdin.readline().rstrip("\n") if password_stdin else None
    _administer(
        username,
        lambda s, u, _c: f"{username}: new password {reset_password(s, None, u, given) if not given else 'set'}",
    )


@user_app.command("unlock")
def user_unlock(username: str) -> None:
    """Lift the sign-in lock after too many failed attempts (audited)."""
    from hotline.account_admin import unlock

    _administer(username, lambda s, u, c: f"{username}: {unlock(s, c.redis.client, None, u)} lock(s) lifted")


@app.command("classify")
def classify(
    text: Annotated[str | None, typer.Argument(help="A question or transcript, e.g. 老板拖欠工资怎么办")] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help='Read JSON lines {"text": …, "caller_number": …} on stdin')
    ] = False,
    caller_number: Annotated[str | None, typer.Option(help="The caller's number (for the station)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON")] = False,
) -> None:
    """Show the router's decision: category, service line, flags, station, and why."""
    import json

    from hotline.bootstrap import build_router
    from hotline.classify import active_model, classify_jsonl, describe
    from settings.env import load_settings
    from settings.files import load_config
    from ticketing.domain.errors import UnroutableText

    if jsonl == (text is not None):
        typer.echo("give either TEXT or --jsonl (JSON lines on standard input)", err=True)
        raise typer.Exit(2)
    with config_errors_exit():
        settings = load_settings()
        config = load_config(settings.config_dir)
        router = build_router(config)
    router.use_model(active_model(settings.effective_database_url, config.routing.target_precision))
    if jsonl:
        read, errors = classify_jsonl(router, sys.stdin.buffer, sys.stdout)
        typer.echo(f"classified {read - errors} of {read} lines ({errors} with errors)", err=True)
        raise typer.Exit(1 if errors else 0)
    try:
        decision = router.route(text or "", caller_number=caller_number)
    except UnroutableText as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2) if as_json else describe(decision))


@app.command("worker")
def worker(
    queues: Annotated[
        list[str] | None, typer.Argument(help="Queues to serve, in priority order (default: sweeps default)")
    ] = None,
    processes: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes in the pool (two per core: jobs wait on the database)")
    ] = 4,
) -> None:
    """Run a pool of rq workers for background jobs (uses HOTLINE_REDIS_URL). Settings and the router are
    built once, before the pool forks its workers; a worker that dies is replaced within a second."""
    from hotline.asr.model import preload
    from hotline.jobs.pool import DEFAULT_QUEUES, run_pool
    from hotline.jobs.transcription import ASR_QUEUE
    from settings.env import load_settings

    url = os.environ.get("HOTLINE_REDIS_URL")
    if not url:
        typer.echo("HOTLINE_REDIS_URL is not set: a worker needs the service's Redis", err=True)
        raise typer.Exit(2)
    queues = queues or DEFAULT_QUEUES
    with config_errors_exit():
        settings = load_settings()
        if ASR_QUEUE in queues:
            preload(settings)  # once, before the pool forks: the workers share the loaded model
        run_pool(url, queues, processes, preload=queues != [ASR_QUEUE])


@app.command("bridge")
def bridge(
    with_ivr: Annotated[
        bool, typer.Option("--ivr/--no-ivr", help="Also serve the IVR (FastAGI) here; --no-ivr with `hotline ivr`")
    ] = True,
) -> None:
    """Run the telephony bridge alone (with the IVR): AMI events to call records and live state, the
    roster, and the actions the API asks for. Without HOTLINE_AMI_HOST: the simulator (demo mode)."""
    from hotline.bridge.runner import bridge_options, run_bridge

    with config_errors_exit():
        context = _context()
        if not context.settings.demo_mode:
            bridge_options(context)  # report missing credentials before starting
    typer.echo(_pbx_line(context.settings))
    _run_until_stopped(lambda: run_bridge(context, with_ivr=with_ivr), context, "bridge")


@app.command("relay")
def relay() -> None:
    """Run the outbox relay alone: committed work (routing, announcements, transcription) handed to rq
    and confirmed. Safe beside other relays (rows are locked with SKIP LOCKED). `hotline serve` runs one
    in its own process beside its workers, so a busy API does not slow the hand-over."""
    from hotline.jobs.outbox import RELAY_INTERVAL_S, relay_forever

    with config_errors_exit():
        context = _context()
    typer.echo(f"outbox relay: every {RELAY_INTERVAL_S:g} s to Redis ({context.redis.mode})")
    _run_until_stopped(lambda: relay_forever(context.sessions, context.redis.client), context, "relay")


@app.command("scheduler")
def scheduler() -> None:
    """Run the periodic-job scheduler alone (escalation, retention, KPI rebuild). Run it on two or more
    machines: a lease in Redis elects the one that enqueues, and another takes over when it dies."""
    from hotline.jobs.scheduler import schedule_forever, scheduler_lease

    with config_errors_exit():
        context = _context()
    typer.echo(f"scheduler: lease of {context.settings.scheduler_lease_seconds:g} s in Redis ({context.redis.mode})")
    _run_until_stopped(lambda: schedule_forever(scheduler_lease(context)), context, "scheduler")


def _run_until_stopped(work, context, what: str) -> None:  # type: ignore[no-untyped-def]
    """Run `work()` until SIGINT or SIGTERM (systemd's stop), then close the context."""
    import asyncio
    import signal

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        await work()

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        typer.echo(f"{what} stopped")
    finally:
        context.close()


def _pbx_line(settings) -> str:  # type: ignore[no-untyped-def]
    if settings.demo_mode:
        return (
            "PBX: SIMULATED (demo mode: built-in AMI simulator with simulated callers; "
            "set HOTLINE_AMI_HOST, HOTLINE_AMI_USERNAME and HOTLINE_AMI_SECRET for Asterisk)"
        )
    return f"PBX: Asterisk AMI at {settings.ami_host}:{settings.ami_port}"


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    with_worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Also run a job worker")] = True,
    with_bridge: Annotated[
        bool, typer.Option("--bridge/--no-bridge", help="Also run the telephony bridge in this process")
    ] = True,
    with_scheduler: Annotated[
        bool,
        typer.Option("--scheduler/--no-scheduler", help="Also take part in the periodic-job election (lease)"),
    ] = True,
    with_relay: Annotated[
        bool,
        typer.Option(
            "--relay/--no-relay",
            help="Hand committed work to the job queue: a sibling process with the worker, in this process"
            " without it; --no-relay leaves it to `hotline relay` (production's hotline-relay.service)",
        ),
    ] = True,
) -> None:
    """Run the service on one machine: API and consoles, outbox relay, the telephony bridge with the IVR
    (demo mode: on the simulator), and a job worker."""
    import threading

    import uvicorn

    from hotline.app import create_app
    from storage.migrate import current_revision

    with config_errors_exit():
        context = _context()
    settings = context.settings
    host, port = host or settings.host, port or settings.port
    if current_revision(context.engine) is None:
        typer.echo("the database has no schema yet: run `hotline setup` (or `hotline db upgrade`) first", err=True)
        context.close()
        raise typer.Exit(2)
    typer.echo(
        f"12348 hotline listening on http://{host}:{port} (API docs http://{host}:{port}/docs)\n"
        f"  mode: {settings.env}; {_pbx_line(settings)}"
        + ("" if with_bridge else " (bridge not run here: start `hotline bridge`)")
        + f"\n  database: {context.engine.url.render_as_string(hide_password=True)}"
        f"\n  redis: {context.redis.mode} ({context.redis.url})"
        f"\n  speech recognition: {_asr_banner(settings)}"
    )
    # Load the router's dictionaries now, not on the first ticket or preview.
    threading.Thread(target=lambda: context.router, name="router-warm-up", daemon=True).start()
    workers = {}
    if with_worker:
        # Supervised by the app's lifespan (hotline.supervise): restarted with backoff when they stop.
        command = [sys.executable, "-m", "hotline.cli", "worker"]
        workers = {
            "worker": [*command, "--processes", str(settings.worker_processes)],
            "asr-worker": [*command, "asr", "--processes", "1"],
            # Its own process: in the API's, a pass shared the interpreter with every request thread
            # and the hand-over to rq took seconds under 20 clients (BENCHMARKS.md, background jobs).
            "relay": [sys.executable, "-m", "hotline.cli", "relay"],
        }
        if not with_relay:
            del workers["relay"]

    def stop() -> None:
        context.close()

    if with_bridge and not settings.demo_mode:
        from hotline.bridge.runner import bridge_options

        with config_errors_exit():
            bridge_options(context)
    app_ = create_app(
        context,
        relay_outbox=with_relay and not with_worker,  # with the workers, the relay is their sibling process
        on_shutdown=stop,
        with_bridge=with_bridge,
        processes=workers,
        schedule_jobs=with_scheduler,
        process_env={**os.environ, "HOTLINE_REDIS_URL": context.redis.url},
    )
    # Consoles keep their live feed open: give them a few seconds to go when the server stops.
    # JSON logs: uvicorn's loggers go through the root handler (setup_logging) instead of its own.
    log_config = None if os.environ.get("HOTLINE_LOG_FORMAT") == "json" else uvicorn.config.LOGGING_CONFIG
    uvicorn.run(app_, host=host, port=port, log_level="info", log_config=log_config, timeout_graceful_shutdown=5,
                **proxy_options(settings))  # fmt: skip


def proxy_options(settings) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """uvicorn's proxy-header options: X-Forwarded-For is read only from HOTLINE_TRUSTED_PROXIES
    (uvicorn's own default believes any loopback client)."""
    trusted = settings.trusted_proxy_list
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or [""]}


def _asr_banner(settings) -> str:  # type: ignore[no-untyped-def]
    from hotline.asr.model import asr_status

    status = asr_status(settings)
    if status["available"]:
        return f"model {status['model']}"
    return f"unavailable: {status.get('error') or status['hint']}"


@app.command("transcribe")
def transcribe(
    paths: Annotated[list[Path], typer.Argument(help="Recordings, or folders to search for recordings")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file on stdout")] = False,
    store: Annotated[bool, typer.Option(help="Save transcripts and attach them to their calls (back-fill)")] = False,
    force: Annotated[bool, typer.Option(help="With --store: transcribe again files already done")] = False,
) -> None:
    """Transcribe recordings with the configured Vosk model (HOTLINE_ASR_MODEL); prints the real-time factor."""
    from hotline.cli.asr import run
    from settings.env import load_settings

    with config_errors_exit():
        settings = load_settings()
        status = run(settings, paths, as_json, store, force)
    raise typer.Exit(status)
