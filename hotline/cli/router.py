"""`hotline router ...`: train the topic model on people's decisions, list, activate, roll back."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

router_app = typer.Typer(help="The router's learned model: train, models, activate, rollback.", no_args_is_help=True)


def _figure(figures: dict[str, Any], name: str) -> str:
    if name not in figures:
        return "-"
    mean, sd = figures[name]
    return f"{mean:.3f} ± {sd:.3f}"


def describe_model(row: Any) -> list[str]:
    e = row.evaluation
    lines = [
        f"{row.version}  {row.status:<9}  {row.rows} questions from {row.source}"
        + (f", activated {row.activated_at:%Y-%m-%d %H:%M}" if row.activated_at else ""),
        f"  {e['folds']}-fold x {e['repeats']} CV on {e['natural_rows']} natural rows:"
        f" target precision {e['target_precision']:.2f} → triage threshold {e['threshold']:.3f}",
    ]
    for name, figures in e["figures"].items():
        lines.append(
            f"  {name:<6} accuracy {_figure(figures, 'accuracy')}  macro-F1 {_figure(figures, 'macro_f1')}"
            f"  coverage {_figure(figures, 'coverage_at_target')}  triage {_figure(figures, 'triage_rate')}"
        )
    lines.append(f"  compared with {e['compared_with']}: {'better' if e['better'] else 'not better'}")
    return lines


@router_app.command("train")
def train(
    jsonl: Annotated[
        Path | None, typer.Option("--jsonl", help='Labelled questions, one {"text": …, "label": …} a line')
    ] = None,
    natural_subset: Annotated[
        str | None, typer.Option(help='With --jsonl: only rows with this "subset" show the real class mix')
    ] = None,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-validation folds")] = 5,
    repeats: Annotated[int, typer.Option(min=1, max=10)] = 1,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Cores for the final fit")] = 2,
    activate: Annotated[bool, typer.Option(help="Activate the new model if it beats the active one")] = True,
) -> None:
    """Train on the categories people confirmed or corrected on tickets (or on --jsonl), evaluate by
    cross-validation, store the model; activate it only if it beats the active one."""
    from hotline.bootstrap import build_router
    from hotline.cli.rosters import _database
    from ticketing.domain.errors import DomainError
    from ticketing.routing import versions

    with _database() as db:
        try:
            items = None
            if jsonl is not None:
                with jsonl.open(encoding="utf-8") as f:
                    items = versions.read_jsonl(f, natural_subset)  # a bad file stops here, quickly
            router = build_router(db.config)
            if items is not None and jsonl is not None:
                data = versions.training_set(router, items)
                source = jsonl.name
            else:
                with db.sessions() as session:
                    data = versions.from_tickets(session, router)
                source = "tickets"
            typer.echo(f"{len(data.examples)} labelled questions ({data.skipped} skipped); cross-validating…", err=True)
            with db.sessions.begin() as session:
                outcome = versions.train(
                    session,
                    data,
                    source,
                    datetime.now(UTC),
                    target_precision=db.config.routing.target_precision,
                    folds=folds,
                    repeats=repeats,
                    n_jobs=jobs,
                    activate_if_better=activate,
                )
                typer.echo("\n".join(describe_model(outcome.model)))
                typer.echo(outcome.reason)
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"cannot read {jsonl}: {exc}", err=True)
            raise typer.Exit(2) from None
        except DomainError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(2) from None


@router_app.command("models")
def models() -> None:
    """The trained models, newest first, with their evaluation."""
    from hotline.cli.rosters import _database
    from ticketing.routing import versions

    with _database() as db, db.sessions() as session:
        rows = versions.models(session)
        if not rows:
            typer.echo("no trained model: the keyword rules decide (train one with `hotline router train`)")
        for row in rows:
            typer.echo("\n".join(describe_model(row)))


def _change(action: str, version: str | None = None) -> None:
    from hotline.cli.rosters import _database
    from ticketing.domain.errors import DomainError
    from ticketing.routing import versions

    with _database() as db:
        try:
            with db.sessions.begin() as session:
                now = datetime.now(UTC)
                if version is not None:
                    row = versions.find(session, version)
                    versions.activate(session, row, now)
                    typer.echo(f"model {row.version} is active")
                else:
                    previous = versions.rollback(session, now)
                    typer.echo(f"model {previous.version} is active" if previous else "no model active: keyword rules")
        except DomainError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(2) from None
    typer.echo("running services pick it up within 30 s", err=True)


@router_app.command("activate")
def activate(version: Annotated[str, typer.Argument(help="A version from `hotline router models`")]) -> None:
    """Activate a trained model by hand (even one that did not beat the active model)."""
    _change("activate", version)


@router_app.command("rollback")
def rollback() -> None:
    """Retire the active model and return to the one active before it (or to the rules alone)."""
    _change("rollback")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(router_app())
