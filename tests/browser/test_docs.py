"""/docs and /redoc render the API's operations from locally served npm packages under the pages'
Content-Security-Policy (no CDN, no inline script)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveApp, screenshot

WAIT = 20_000


def test_swagger_ui_and_redoc_render_the_operations(browser: Any, live_app: LiveApp) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))

    response = page.goto(f"{live_app.url}/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".opblock-summary-path", has_text="/api/tickets/{code}/transitions").first.wait_for(timeout=WAIT)
    assert page.locator(".opblock").count() > 30
    page.locator(".opblock-summary-path", has_text="/api/labels").first.click()
    page.get_by_text("Chinese display names of every code").first.wait_for(timeout=WAIT)
    screenshot(page, "docs")

    response = page.goto(f"{live_app.url}/redoc")
    assert response is not None and response.status == 200
    # Only ReDoc's styles may be inline (styled-components); its scripts are as strict as everywhere.
    assert "script-src 'self';" in response.headers["content-security-policy"]
    page.locator("h2", has_text="Accept a ticket (受理)").first.wait_for(timeout=WAIT)
    assert page.locator("h1", has_text="12348 公共法律服务热线 API").count() == 1
    screenshot(page, "redoc")

    favicon = page.request.get(f"{live_app.url}/favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/svg+xml")
    # Nothing failed to load from this server; ReDoc's one attempt at its CDN logo is blocked, not made.
    local = [p for p in problems if live_app.url in p]
    elsewhere = [p for p in problems if "Content Security Policy" in p and "cdn.redoc.ly/redoc/logo-mini.svg" not in p]
    assert not local and not elsewhere, problems
    page.close()
