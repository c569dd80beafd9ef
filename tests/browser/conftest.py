"""The running app for browser tests: the real service (API, pages, outbox relay, the bridge on the
PBX simulator in demo mode) served by uvicorn on a free port, and Debian's Chromium driven by
Playwright. Random simulated traffic is off (HOTLINE_DEMO_CALLS_PER_MINUTE=0): the tests place
scripted calls. Screenshots go to artifacts/screenshots/ (git-ignored; CI keeps them).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from hotline.app import create_app
from hotline.bootstrap import Context
from hotline.demo import DEMO_USERS, load_demo_roster, load_demo_users
from hotline.live.publisher import AGENTS_KEY

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HOTLINE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("HOTLINE_SCREENSHOT_DIR") or REPO / "artifacts" / "screenshots")
#: As python-svc.md's "Known to work": no sandbox as root, no network chatter to closed hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
VIEWPORT = {"width": 1366, "height": 768}
PASSWORDS = {user.username: user.password for user in DEMO_USERS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass
class LiveApp:
    url: str
    context: Context


# Module scope, not session: Playwright's sync API runs an event loop in this thread while it is
# open, and the rest of the suite calls asyncio.run().
@pytest.fixture(scope="module")
def playwright_api() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test installs it (apt-get install chromium)")
        pytest.skip(f"Chromium not installed ({CHROMIUM}); apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_api: Any) -> Iterator[Any]:
    """Chromium with a fake microphone that the page may use without asking."""
    found = playwright_api.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + FAKE_MEDIA)
    yield found
    found.close()


@pytest.fixture
def live_app(context: Context, tmp_path: Path) -> Iterator[LiveApp]:
    """The service on a free port with the demo accounts and roster; stopped after the test.
    Recordings are read from `settings.recordings_dir`, a folder of this test's own."""
    port = _free_port()
    (tmp_path / "monitor").mkdir()
    settings = context.settings.model_copy(
        update={
            "agi_port": _free_port(),
            "demo_calls_per_minute": 0.0,
            # Nothing listens there: the softphone's registration fails, as it must be shown to.
            "sip_ws_url": f"ws://127.0.0.1:{_free_port()}/ws",
            "sip_domain": "hotline.test",
            "recordings_dir": tmp_path / "monitor",
        }
    )
    app_context = dataclasses.replace(context, settings=settings)
    with context.sessions.begin() as session:
        load_demo_users(session)
        session.flush()
        queues = [q.name for q in context.config.service_hours.queues]
        load_demo_roster(session, queues, datetime.now(ZoneInfo(settings.timezone)).date(), days=1)
    app = create_app(app_context, relay_outbox=True, with_bridge=True, schedule_jobs=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, name="live-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and context.redis.client.hlen(AGENTS_KEY) >= 2):
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the app did not start, or the roster did not seat the demo lawyers")
        time.sleep(0.1)
    yield LiveApp(f"http://127.0.0.1:{port}", app_context)
    server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive(), "the app did not stop"


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("#login-submit")


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
