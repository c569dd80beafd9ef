"""`hotline roster ...`: import a duty roster, check its coverage, show who is on duty."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from hotline.cli.common import config_errors_exit

roster_app = typer.Typer(help="Duty rosters (值班表): import, coverage, show.", no_args_is_help=True)


@dataclass
class _Database:
    settings: Any
    config: Any
    sessions: Any
    calendar: Any


@contextmanager
def _database() -> Iterator[_Database]:
    """Settings, config and the database: what roster commands need (no Redis to start)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from hotline.bootstrap import ticket_policy
    from settings.env import load_settings
    from settings.files import load_config
    from storage.db import make_engine, make_session_factory

    with config_errors_exit():
        settings = load_settings()
        config = load_config(settings.config_dir)
    engine = make_engine(settings.effective_database_url)
    try:
        yield _Database(settings, config, make_session_factory(engine), ticket_policy(settings, config).calendar)
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(f"database error: {exc.orig}; is it set up? run `hotline setup` (or `hotline db upgrade`)", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _day(text: str | None, option: str, default: date) -> date:
    if text is None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        typer.echo(f"{option} {text!r} is not a date: write 2026-12-01", err=True)
        raise typer.Exit(2) from None


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


@roster_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="Roster file: CSV (UTF-8 or GB18030) or XLSX")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and say what would change")] = False,
) -> None:
    """Import a roster: every row is checked; any error and nothing is imported. The dates in the
    file replace what the roster had for them, so importing a corrected file again is safe."""
    from hotline.rosters.reader import RosterFileError
    from hotline.rosters.service import import_roster

    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"{file}: cannot read: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    try:
        with _database() as db, db.sessions.begin() as session:
            now = datetime.now(ZoneInfo(db.settings.timezone))
            result = import_roster(session, data, file.name, db.config.service_hours, _who(), now, dry_run)
    except RosterFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for error in result.errors:
        typer.echo(error.render(), err=True)
    typer.echo(result.summary(), err=not result.ok)
    if not result.ok:
        raise typer.Exit(2)


@roster_app.command("coverage")
def coverage(
    start: Annotated[str, typer.Option("--from", help="First day, e.g. 2026-12-01")],
    end: Annotated[str, typer.Option("--to", help="Last day (included)")],
    queue: Annotated[str | None, typer.Option(help="One queue only")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Gaps (queue open, nobody on duty) and overlaps (a lawyer on two shifts at once), in minutes."""
    from hotline.rosters.service import coverage as coverage_of

    first, last = _day(start, "--from", date.today()), _day(end, "--to", date.today())
    try:
        with _database() as db, db.sessions() as session:
            report = coverage_of(session, db.config.service_hours, db.calendar, first, last, queue)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"coverage {first} – {last}")
    typer.echo(f"{'queue':<12}{'open':>8}{'covered':>9}{'gap':>8}  (minutes)")
    for item in report.queues:
        typer.echo(f"{item.queue:<12}{item.open_minutes:>8}{item.covered_minutes:>9}{item.gap_minutes:>8}")
        for gap in item.gaps:
            shown = gap.as_dict()
            typer.echo(f"  gap {shown['date']} {shown['start']}–{shown['end']} {shown['minutes']} min")
    typer.echo(f"overlaps: {len(report.overlaps)}")
    for overlap in report.overlaps:
        typer.echo(
            f"  {overlap.first.username}: {overlap.first.label} and {overlap.second.label} ({overlap.minutes} min)"
        )


@roster_app.command("show")
def show(day: Annotated[str | None, typer.Option("--date", help="Day to show (default: today)")] = None) -> None:
    """The shifts of one day (and last night's that run into it)."""
    from hotline.rosters.service import shifts_on

    with _database() as db, db.sessions() as session:
        wanted = _day(day, "--date", datetime.now(ZoneInfo(db.settings.timezone)).date())
        shifts = shifts_on(session, wanted)
    if not shifts:
        typer.echo(f"no shifts on {wanted}")
        return
    for shift in shifts:
        typer.echo(
            f"{shift.day} {shift.hours_label:<16} {shift.username:<12} {shift.member_name:<8} {shift.interface:<14}"
            f" {','.join(shift.queues):<28} {'、'.join(shift.languages)}"
        )
