"""The browser softphone against the real Asterisk: headless Chromium with fake media registers the
lawyer's WebRTC endpoint (PJSIP/1001) over WebSocket, the duty roster puts it in the queues, a SIPp
caller is rung through the IVR and the queue, the lawyer answers and hangs up in the console."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from hotline.app import create_app
from hotline.demo import load_demo_roster, load_demo_users
from tests.browser.conftest import CHROMIUM_ARGS, FAKE_MEDIA, _free_port, playwright_api, sign_in
from tests.pbx.harness import HotlinePbx, wait_for
from tests.pbx.sipp import Caller, Key

__all__ = ["playwright_api"]  # the fixture, used by name
WAIT = 20_000


@pytest.fixture
def console(pbx_stopped: HotlinePbx) -> Iterator[str]:
    """`hotline serve` (API, consoles, bridge, IVR) against the real Asterisk, with the demo accounts
    and today's demo roster; its URL."""
    context = pbx_stopped.make_context()
    with context.sessions.begin() as session:
        load_demo_users(session)
        session.flush()
        queues = [q.name for q in context.config.service_hours.queues]
        load_demo_roster(session, queues, datetime.now(ZoneInfo(context.settings.timezone)).date(), days=1)
    port = _free_port()
    app = create_app(dataclasses.replace(context), relay_outbox=True, with_bridge=True, schedule_jobs=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, name="console-app", daemon=True)
    thread.start()
    try:
        pbx_stopped.wait_connected()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_a_caller_answered_in_the_browser_stays_connected(
    console: str, pbx_stopped: HotlinePbx, playwright_api: Any
) -> None:
    """Defect 11: the sample let WebRTC endpoints negotiate opus; Asterisk has no codec_opus, and
    dropped the call right after the answer ("Unable to find a codec translation path")."""
    pbx, asterisk = pbx_stopped, pbx_stopped.asterisk
    # The roster put both demo lawyers on duty in Asterisk (QueueAdd from the reconciler).
    wait_for(lambda: {"PJSIP/1001", "PJSIP/1002"} <= set(asterisk.members()["zonghe"]), 30, "the roster's QueueAdd")
    browser = playwright_api.chromium.launch(
        executable_path="/usr/bin/chromium",
        headless=True,
        args=[*CHROMIUM_ARGS, *FAKE_MEDIA, "--allow-loopback-in-peer-connection"],
    )
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        sign_in(page, console, "lawyer1")
        page.locator("#phone-state[data-state=need_password]").wait_for(timeout=WAIT)
        page.fill("#sip-password", asterisk.config.webrtc_passwords["1001"])
        page.click("#btn-register")
        page.locator("#phone-state[data-state=registered]").wait_for(timeout=WAIT)
        assert "Contact:  1001/sip:" in asterisk.cli("pjsip show contacts")  # registered over the WebSocket

        number = "13900005555"
        caller = pbx.call(Caller(keys=[Key("1", at_ms=2000), Key("0", at_ms=1500)], number=number, wait_bye_ms=90_000))
        page.locator("#phone-state[data-state=ringing]").wait_for(timeout=40_000)
        page.click("#btn-answer")
        page.locator("#phone-state[data-state=in_call]").wait_for(timeout=WAIT)
        page.locator("#screen-pop").wait_for(state="visible", timeout=WAIT)
        time.sleep(4)  # talk: before the fix, Asterisk hung up right after the answer
        assert page.get_attribute("#phone-state", "data-state") == "in_call"
        assert "2 active channels" in asterisk.cli("core show channels count")
        page.click("#btn-hangup")
        page.locator("#phone-state[data-state=registered]").wait_for(timeout=WAIT)
        # The caller is now in the survey (tested elsewhere): end it here.
        asterisk.cli("channel request hangup all")
        caller.check(30)
    finally:
        browser.close()
    call = pbx.call_row(caller_number=number)
    assert call.outcome == "answered" and call.queue == "zonghe" and call.agent_interface == "PJSIP/1001"
    assert call.talk_seconds is not None and call.talk_seconds >= 4
    assert "Unable to find a codec translation path" not in asterisk.log_since_reset()
