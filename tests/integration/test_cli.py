"""The command line as a user meets it: help, configuration errors, accounts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def hotline(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        cwd=REPO,
    )


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment of a fresh install: its own SQLite file and embedded Redis under tmp_path."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    env.update(HOTLINE_DATA_DIR=str(tmp_path / "var"), HOTLINE_CONFIG_DIR=str(config))
    return env


def test_help_lists_the_commands() -> None:
    result = hotline("--help")
    assert result.returncode == 0
    for command in ("serve", "worker", "setup", "db", "config", "user"):
        assert command in result.stdout


def test_config_check_names_file_field_and_problem(isolated_env: dict[str, str]) -> None:
    config = Path(isolated_env["HOTLINE_CONFIG_DIR"])
    text = (config / "categories.yaml").read_text(encoding="utf-8")
    (config / "categories.yaml").write_text(text.replace("callback_days: 3", "callback_days: -3"), encoding="utf-8")
    (config / "service_hours.yaml").write_text("schedules: [unclosed\n", encoding="utf-8")
    result = hotline("config", "check", env=isolated_env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "categories.yaml: callback_days:" in result.stderr
    assert "service_hours.yaml: line 2" in result.stderr


def test_bad_setting_stops_start_up_with_its_name(isolated_env: dict[str, str]) -> None:
    result = hotline("serve", env={**isolated_env, "HOTLINE_PORT": "eighty"})
    assert result.returncode == 2
    assert "HOTLINE_PORT" in result.stderr and "Traceback" not in result.stderr


def test_production_refuses_placeholder_secrets(isolated_env: dict[str, str]) -> None:
    result = hotline("config", "check", env={**isolated_env, "HOTLINE_ENV": "production"})
    assert result.returncode == 2
    assert "HOTLINE_SECRET_KEY" in result.stderr
    assert "HOTLINE_DATABASE_URL" in result.stderr and "HOTLINE_REDIS_URL" in result.stderr


def test_setup_then_user_create_makes_the_first_admin(isolated_env: dict[str, str]) -> None:
    setup = hotline("setup", "--no-demo", env=isolated_env)
    assert setup.returncode == 0, setup.stderr
    assert "stations: 58 created" in setup.stdout
    created = hotline(
        "user",
        "create",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        env=isolated_env,
        stdin="rain-on-the-ledger-7\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin root" in created.stdout
    again = hotline(
        "user",
        "create",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        env=isolated_env,
        stdin="rain-on-the-ledger-7\n",
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    short = hotline("user", "create", "x1", "--role", "lawyer", "--password-stdin", env=isolated_env, stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    guessable = hotline(
        "user", "create", "x3", "--role", "lawyer", "--password-stdin", env=isolated_env, stdin="12345678\n"
    )
    assert guessable.returncode == 1 and "too easy to guess" in guessable.stderr
    spaced = hotline(
        "user",
        "create",
        "admin ",
        "--role",
        "admin",
        "--password-stdin",
        env=isolated_env,
        stdin="rain-on-the-ledger-7\n",
    )
    assert spaced.returncode == 1 and "username" in spaced.stderr
    role = hotline(
        "user", "create", "x2", "--role", "boss", "--password-stdin", env=isolated_env, stdin="long-enough\n"
    )
    assert role.returncode == 2 and "unknown role" in role.stderr


def test_bridge_names_missing_asterisk_credentials(isolated_env: dict[str, str]) -> None:
    result = hotline("bridge", env={**isolated_env, "HOTLINE_AMI_HOST": "10.0.0.5"})
    assert result.returncode == 2
    assert "HOTLINE_AMI_USERNAME" in result.stderr and "HOTLINE_AMI_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
