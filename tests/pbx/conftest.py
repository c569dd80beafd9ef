"""Fixtures of the real-PBX tests: a real Asterisk 22 configured from config/asterisk/, SIPp callers
and phones, and the hotline's bridge + IVR connected to it.

The Asterisk comes from HOTLINE_TEST_ASTERISK (a tarball, an unpacked tree or a binary; scripts/test
points it at ../shared/tools/asterisk-22/ when that exists). Without it, or without SIPp, espeak-ng
or sox, these tests are skipped and the run ends with a line saying so. With HOTLINE_TEST_REQUIRE_PBX=1
(CI sets it) they fail instead: CI must not pass without having run them. HOTLINE_TEST_PBX_KEEP=1 keeps
Asterisk's folder (logs, generated configuration) after the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.bootstrap import Context
from ivr.menu_checks import load_ivr_config
from ivr.prompt_audio import generate_prompts, missing_tools
from ivr.prompts import PromptFiles
from tests.pbx.asterisk import ENV, REQUIRE_ENV, Asterisk, AsteriskUnavailable, choose_ports, generate_config, locate
from tests.pbx.harness import HotlinePbx
from tests.pbx.sipp import sipp_binary

_not_run: list[str] = []


def unavailable(reason: str) -> None:
    """Skip (or, with HOTLINE_TEST_REQUIRE_PBX=1, fail) a real-PBX test, saying why."""
    message = f"real-PBX tests did not run: {reason}"
    if os.environ.get(REQUIRE_ENV, "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} ({REQUIRE_ENV} is set, so this is a failure)", pytrace=False)
    if not _not_run:
        _not_run.append(reason)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _not_run:
        terminalreporter.write_sep("!", f"real-PBX tests SKIPPED: {_not_run[0]}", yellow=True)


@pytest.fixture(scope="session")
def pbx_home() -> Iterator[Path]:
    """A short temporary folder (Asterisk's control socket path is limited to ~100 characters)."""
    home = Path(tempfile.mkdtemp(prefix="hl-pbx-", dir="/tmp"))
    yield home
    if os.environ.get("HOTLINE_TEST_PBX_KEEP"):
        print(f"real-PBX test folder kept: {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def asterisk(pbx_home: Path) -> Iterator[Asterisk]:
    """A running Asterisk with the project's sample configuration (ports chosen here)."""
    if sipp_binary() is None:
        unavailable("sipp is not installed (Debian package sip-tester; scripts/test installs it)")
    try:
        build = locate(os.environ.get(ENV), pbx_home / "build")
    except AsteriskUnavailable as exc:
        unavailable(str(exc))
    home = pbx_home / "ast"
    config = generate_config(home / "etc", choose_ports())
    server = Asterisk(build, home, config)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pbx_sounds(pbx_home: Path, context: Context) -> Path:
    """The IVR's prompt files, made by the project's own generator (espeak-ng + sox)."""
    tools = missing_tools()
    if tools:
        unavailable(f"{' '.join(tools)} not installed (the IVR's prompt files are made with them)")
    sounds = pbx_home / "sounds"
    config = load_ivr_config(context.settings.config_dir, context.config)
    generate_prompts(config, PromptFiles(sounds, str(sounds), config.default_language))
    return sounds


@pytest.fixture
def pbx_stopped(context: Context, asterisk: Asterisk, pbx_sounds: Path, tmp_path: Path) -> Iterator[HotlinePbx]:
    """The hotline side, not started (a test that runs it its own way, e.g. inside the web app)."""
    asterisk.reset()
    hotline = HotlinePbx(context, asterisk, tmp_path, pbx_sounds)
    try:
        yield hotline
    finally:
        hotline.stop()


@pytest.fixture
def pbx(pbx_stopped: HotlinePbx) -> HotlinePbx:
    """The hotline (bridge + IVR + roster loop) connected to a freshly reset Asterisk."""
    return pbx_stopped.start()
