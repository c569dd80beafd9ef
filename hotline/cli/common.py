"""What every command shares: a configuration problem ends it with its message, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from settings.errors import ConfigError


@contextmanager
def config_errors_exit() -> Iterator[None]:
    """Print a ConfigError's problems (file, field, what is wrong) and exit with status 2."""
    try:
        yield
    except ConfigError as exc:
        typer.echo(exc.render(), err=True)
        raise typer.Exit(2) from None
