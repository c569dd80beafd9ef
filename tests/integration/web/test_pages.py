"""Pages: sign-in redirects, one role per page, security headers, and markup that keeps text inert."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.accounts import open_session
from hotline.bootstrap import Context
from hotline.web.pages import PAGES, STATIC_DIR
from storage.tables import User
from tests.integration.conftest import Staff


@pytest.mark.parametrize("path", sorted(PAGES))
def test_pages_send_strangers_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path.replace('/', '%2F')}%3Fx%3D1"


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("lawyer1", ["/console"], ["/dashboard", "/station", "/report/monthly"]),
        ("supervisor", ["/dashboard", "/station", "/report/monthly"], ["/console"]),
        ("county", ["/station"], ["/console", "/dashboard", "/report/monthly"]),
    ],
)
def test_each_page_opens_for_its_roles_only(
    client: TestClient, staff: dict[str, Staff], who: str, allowed: list[str], refused: list[str]
) -> None:
    headers = staff[who].headers
    for path in allowed:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
        assert response.headers["cache-control"] == "no-store"
    for path in refused:
        response = client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert "无权访问" in response.text


def test_login_page_sends_a_signed_in_user_on_but_never_off_site(client: TestClient, staff: dict[str, Staff]) -> None:
    headers = staff["county"].headers
    assert client.get("/login", headers=headers, follow_redirects=False).headers["location"] == "/station"
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = client.get("/login", params={"next": evil}, headers=headers, follow_redirects=False)
        assert response.headers["location"] == "/station"
    response = client.get("/login", params={"next": "/station?code=1"}, headers=headers, follow_redirects=False)
    assert response.headers["location"] == "/station?code=1"
    assert client.get("/", headers=staff["lawyer1"].headers, follow_redirects=False).headers["location"] == "/console"
    assert client.get("/login").status_code == 200


def test_an_expired_session_opens_no_page(context: Context, client: TestClient, staff: dict[str, Staff]) -> None:
    with context.sessions.begin() as session:
        user = session.scalars(select(User).where(User.username == "lawyer1")).one()
        token = open_session(session, user, datetime.now(UTC) - timedelta(hours=13), timedelta(hours=12))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/console", headers=headers, follow_redirects=False).status_code == 303
    assert client.get("/api/console/me", headers=headers).status_code == 401


def test_page_markup_runs_no_inline_code_and_loads_nothing_from_elsewhere() -> None:
    for page in STATIC_DIR.glob("*.html"):
        markup = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", markup), f"{page.name}: inline script"
        assert not re.search(r"\son[a-z]+=", markup), f"{page.name}: inline event handler"
        assert " style=" not in markup, f"{page.name}: inline style (the CSP refuses it)"
        for url in re.findall(r'(?:src|href)="([^"]+)"', markup):
            assert url.startswith("/"), f"{page.name}: {url} is not served here"
        assert '<html lang="zh-CN">' in markup


def test_scripts_only_ever_set_text() -> None:
    """Citizens' text reaches the page through textContent only: no HTML parsing of data anywhere."""
    for script in STATIC_DIR.glob("*.js"):
        source = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, f"{script.name} uses {sink}"


def test_a_missing_browser_library_says_how_to_install_it(client: TestClient) -> None:
    response = client.get("/vendor/nothing.js")
    assert response.status_code == 404 and "npm ci" in response.text
    assert client.get("/static/app.css").status_code == 200


def test_pages_are_served_with_their_labels_filled_in(client: TestClient, staff: dict[str, Staff]) -> None:
    """The shells' words come from hotline/labels.py, filled in by the server: the sign-in page too,
    which has no session to ask /api/labels with."""
    login = client.get("/login")
    assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
    assert "{{" not in login.text and "<title>登录 — 12348 公共法律服务热线</title>" in login.text
    assert '<label for="username">用户名</label>' in login.text
    for path, who, words in (("/console", "lawyer1", "值班状态"), ("/station", "county", "工单详情"),
                             ("/dashboard", "supervisor", "实时监控"), ("/admin", "admin", "新建账号"),
                             ("/report/monthly", "supervisor", "一、接通情况")):  # fmt: skip
        page = client.get(path, headers=staff[who].headers)
        assert page.status_code == 200 and "{{" not in page.text and words in page.text, path
        assert "content-security-policy" in page.headers
