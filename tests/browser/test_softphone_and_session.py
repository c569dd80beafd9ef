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
