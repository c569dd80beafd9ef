"""The softphone's states without Asterisk, and what a page does when the session ends under it."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.web.pages import NODE_MODULES
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveApp, sign_in

WAIT = 10_000

needs_sip_js = pytest.mark.skipif(not (NODE_MODULES / "sip.js").is_dir(), reason="npm ci has not installed sip.js")


@needs_sip_js
@pytest.mark.parametrize(
    ("flags", "state", "words"),
    [
        # A microphone, but the permission prompt is refused (as when a lawyer clicks 阻止).
        (["--use-fake-device-for-media-stream"], "mic_denied", "麦克风被拒绝"),
        (["--deny-permission-prompts"], "mic_missing", "未找到麦克风"),  # no microphone at all
    ],
)
def test_a_microphone_that_cannot_be_used_is_said_plainly(
    playwright_api: Any, live_app: LiveApp, flags: list[str], state: str, words: str
) -> None:
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *flags])
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        sign_in(page, live_app.url, "lawyer1")
        page.locator(f"#phone-state[data-state={state}]").wait_for(timeout=WAIT)
        assert words in page.inner_text("#phone-state")
        for button in ("#btn-answer", "#btn-hangup", "#btn-mute", "#btn-hold", "#btn-transfer"):
            assert not page.is_enabled(button)
        assert page.locator("#phone-login").is_hidden()
    finally:
        browser.close()


def test_a_page_whose_session_ended_goes_back_to_the_login(browser: Any, live_app: LiveApp) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_app.url, "lawyer1")
    page.locator("#duty-state[data-state=available]").wait_for(timeout=WAIT)
    token = next(c["value"] for c in context.cookies() if c["name"] == "hotline_session")
    # Signed out elsewhere (or expired): the server no longer knows the token.
    assert page.request.post(f"{live_app.url}/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).ok
    context.add_cookies([{"name": "hotline_session", "value": token, "url": live_app.url}])
    page.click("#btn-off-duty")
    page.wait_for_url("**/login?next=%2Fconsole&expired=1", timeout=WAIT)
    assert page.locator("#expired").is_visible()
    context.close()


#: Stands in for SIP.js where no Asterisk can answer: the same names and shapes the softphone uses,
#: recording what the page asks of it. It tests the console's wiring, not SIP.
FAKE_SIP_JS = """
class Emitter {
  constructor() { this.l = []; }
  addListener(f) { this.l.push(f); }
  emit(v) { this.l.forEach((f) => f(v)); }
}
const log = (window.__sipLog = []);
export const SessionState = { Established: "Established", Terminated: "Terminated" };
export const RegistererState = { Registered: "Registered" };
export const Web = { holdModifier: (d) => Promise.resolve(d) };
class Session {
  constructor(user) {
    this.state = "Initial"; this.stateChange = new Emitter(); this.remoteIdentity = { uri: { user } };
    this.track = { enabled: true };
    const peerConnection = { getSenders: () => [{ track: this.track }], getReceivers: () => [] };
    this.sessionDescriptionHandler = { peerConnection, sendDtmf: (key) => log.push(`dtmf:${key}`) };
  }
  set(state) { this.state = state; this.stateChange.emit(state); }
  accept() { log.push("accept"); this.set("Established"); return Promise.resolve(); }
  reject() { log.push("reject"); this.set("Terminated"); return Promise.resolve(); }
  bye() { log.push("bye"); this.set("Terminated"); return Promise.resolve(); }
  invite(o) { log.push(`reinvite:${o.sessionDescriptionHandlerModifiers.length}`); return Promise.resolve(); }
  refer(uri) { log.push(`refer:${uri}`); return Promise.resolve(); }
}
export class UserAgent {
  static makeURI(s) { return s; }
  constructor(o) { this.o = o; window.__fakeUa = this; }
  start() { log.push(`start:${this.o.uri}`); return Promise.resolve(); }
  stop() { return Promise.resolve(); }
  ring(user) { window.__session = new Session(user); this.o.delegate.onInvite(window.__session); }
}
export class Registerer {
  constructor() { this.stateChange = new Emitter(); }
  register() {
    log.push("register"); this.state = "Registered"; this.stateChange.emit("Registered"); return Promise.resolve();
  }
}
"""


def test_softphone_buttons_drive_the_call(browser: Any, live_app: LiveApp) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.grant_permissions(["microphone"], origin=live_app.url)
    page = context.new_page()
    page.route(
        "**/vendor/sip.js/index.js", lambda route: route.fulfill(body=FAKE_SIP_JS, content_type="text/javascript")
    )
    sign_in(page, live_app.url, "lawyer1")
    state = page.locator("#phone-state")
    page.locator("#phone-state[data-state=need_password]").wait_for(timeout=WAIT)
    page.fill("#sip-password", "secret-1001")
    page.click("#btn-register")
    page.locator("#phone-state[data-state=registered]").wait_for(timeout=WAIT)
    assert page.evaluate("window.__sipLog") == ["start:sip:1001@hotline.test", "register"]

    def log() -> list[str]:
        return page.evaluate("window.__sipLog.slice(2)")

    page.evaluate("window.__fakeUa.ring('13912345678')")
    page.locator("#phone-state[data-state=ringing]").wait_for(timeout=WAIT)
    assert "13912345678" in state.inner_text()
    assert page.is_enabled("#btn-answer") and not page.is_enabled("#btn-mute")
    page.click("#btn-answer")
    page.locator("#phone-state[data-state=in_call]").wait_for(timeout=WAIT)
    page.click("#btn-mute")
    assert page.inner_text("#btn-mute") == "取消静音" and page.evaluate("window.__session.track.enabled") is False
    page.click("#keypad button:has-text('5')")
    page.click("#btn-hold")
    page.locator("#phone-state[data-state=on_hold]").wait_for(timeout=WAIT)
    assert page.is_disabled("#keypad button:has-text('5')")
    page.click("#btn-hold")
    page.locator("#phone-state[data-state=in_call]").wait_for(timeout=WAIT)
    page.fill("#transfer-target", "12345")
    page.click("#btn-transfer")
    page.click("#btn-hangup")
    page.locator("#phone-state[data-state=registered]").wait_for(timeout=WAIT)
    assert log() == ["accept", "dtmf:5", "reinvite:1", "reinvite:0", "refer:sip:12345@hotline.test", "bye"]
    # Hanging up a call that still rings rejects it.
    page.evaluate("window.__fakeUa.ring('13800000000')")
    page.locator("#phone-state[data-state=ringing]").wait_for(timeout=WAIT)
    page.click("#btn-hangup")
    page.locator("#phone-state[data-state=registered]").wait_for(timeout=WAIT)
    assert log()[-1] == "reject"
    context.close()
