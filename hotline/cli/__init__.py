"""The `hotline` command: `main.py` holds the app and its small commands, each larger group its module
(`rosters.py`, `ivr.py`, `asr.py`); `common.py` is how a configuration error ends a command."""

from hotline.cli.main import app

__all__ = ["app"]
