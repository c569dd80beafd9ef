"""`hotline ivr` as an admin meets it: running the IVR alone, checking menus and prompt files."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.asterisk_sim import SimulatedCall, make_env
from tests.conftest import REPO
from tests.integration.test_cli import hotline


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh install: its own config copy, SQLite file and embedded Redis under tmp_path."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    text = (config / "ivr.yaml").read_text(encoding="utf-8")
    (config / "ivr.yaml").write_text(text.replace("dir: var/sounds", f"dir: {tmp_path / 'sounds'}"), encoding="utf-8")
    environment.update(HOTLINE_DATA_DIR=str(tmp_path / "var"), HOTLINE_CONFIG_DIR=str(config))
    return environment


def test_config_check_reports_ivr_yaml_problems_with_file_and_path(env: dict[str, str]) -> None:
    path = Path(env["HOTLINE_CONFIG_DIR"]) / "ivr.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"1": consult-topics', '"1": consult-topicz'), "utf-8")
    for command in (("config", "check"), ("ivr", "check")):
        result = hotline(*command, env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"{path}: nodes.main.options.1: unknown destination 'consult-topicz'" in result.stderr


def test_prompts_check_lists_missing_files(env: dict[str, str]) -> None:
    result = hotline("ivr", "prompts", "check", env=env)
    assert result.returncode == 1
    assert "missing: welcome (zh)" in result.stdout and "prompt files missing" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_hotline_ivr_serves_calls_until_stopped(env: dict[str, str]) -> None:
    assert hotline("db", "upgrade", env=env).returncode == 0
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "ivr"],
        env={**env, "HOTLINE_AGI_PORT": str(port)},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            assert f"IVR listening on agi://127.0.0.1:{port}/ivr" in server.stdout.readline()
            simulated = SimulatedCall(make_env(uniqueid="1795449999.1", callerid="13808081234"), actions=["1", "0"])
            asyncio.run(simulated.run("127.0.0.1", port))
            server.send_signal(signal.SIGTERM)
            _, errors = server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
    assert server.returncode == 0 and "Traceback" not in errors
    assert simulated.variables["HOTLINE_ROUTE"] == "queue" and simulated.variables["HOTLINE_QUEUE"] == "zonghe"
    assert "IVR queue:zonghe" in errors  # the session's log line
