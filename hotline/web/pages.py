"""Page routes: each page checks who is signed in and redirects to /login when nobody is.

A page is a static HTML shell in hotline/web/static/; it learns the user from /api/auth/me and its
data from the API, where every call checks the role again. Responses carry a strict
Content-Security-Policy (no inline script, nothing from other origins but the SIP WebSocket).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.api.sessions import HOME, safe_next, signed_in
from hotline.bootstrap import Context
from ticketing.domain.roles import Role

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: npm installs the browser libraries here (scripts/_setup.sh runs `npm ci`).
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_FILES = {"echarts.min.js": NODE_MODULES / "echarts" / "dist" / "echarts.min.js"}
SIP_JS_DIR = NODE_MODULES / "sip.js" / "lib"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Page:
    file: str
    roles: frozenset[Role]


PAGES = {
    "/console": Page("console.html", frozenset({Role.LAWYER})),
    "/dashboard": Page("dashboard.html", frozenset({Role.SUPERVISOR, Role.ADMIN})),
    "/report/monthly": Page("report.html", frozenset({Role.SUPERVISOR, Role.ADMIN})),
    "/station": Page("station.html", frozenset({Role.STATION_STAFF, Role.SUPERVISOR, Role.ADMIN})),
}


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _forbidden(role: Role, path: str) -> HTMLResponse:
    home = HOME[role]
    body = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>无权访问</title>'
        '<link rel="stylesheet" href="/static/app.css"><main class="notice">'
        f"<h1>无权访问</h1><p>您的角色（{html.escape(role.label)}）不能打开 {html.escape(path)}。</p>"
        f'<p><a href="{html.escape(home)}">返回我的工作台</a></p></main></html>'
    )
    return HTMLResponse(body, status_code=403)


def _page(path: str) -> Callable[[Request], Response]:
    page = PAGES[path]

    def show(request: Request) -> Response:
        user = signed_in(request, _context(request))
        if user is None:
            return _login_redirect(request)
        if user.role not in page.roles:
            logger.info("user %s (%s) refused page %s", user.actor.user_id, user.role, path)
            return _forbidden(user.role, path)
        return FileResponse(STATIC_DIR / page.file, media_type="text/html; charset=utf-8")

    show.__name__ = f"page_{page.file.removesuffix('.html')}"
    return show


for _path in PAGES:
    router.add_api_route(_path, _page(_path), methods=["GET"], response_model=None)


@router.get("/login", response_model=None)
def login_page(request: Request, next: str | None = None) -> Response:
    user = signed_in(request, _context(request))
    if user is not None:
        return RedirectResponse(safe_next(next) or HOME[user.role], status_code=303)
    return FileResponse(STATIC_DIR / "login.html", media_type="text/html; charset=utf-8")


@router.get("/", response_model=None)
def root(request: Request) -> Response:
    user = signed_in(request, _context(request))
    return RedirectResponse(HOME[user.role] if user else "/login", status_code=303)


@router.get("/vendor/{name}", response_model=None)
def vendor_file(name: str) -> Response:
    path = VENDOR_FILES.get(name)
    if path is None or not path.is_file():
        return Response(
            f"/* {name} missing: run scripts/run or `npm ci` to install the browser libraries */",
            status_code=404,
            media_type="text/javascript",
        )
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


def content_security_policy(sip_ws_url: str | None) -> str:
    connect = ["'self'"]
    if sip_ws_url:
        parts = urlsplit(sip_ws_url)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob: mediastream:",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if SIP_JS_DIR.is_dir():
        app.mount("/vendor/sip.js", StaticFiles(directory=SIP_JS_DIR), name="vendor-sip")
    else:
        logger.warning("browser libraries not installed (%s missing): run `npm ci`; the softphone is off", SIP_JS_DIR)
    context: Context = app.state.context
    policy = content_security_policy(context.settings.sip_ws_url)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: under no-referrer browsers send `Origin: null` on the pages' own
        # POSTs, and the Origin check (hotline.api.origin) needs the real one. Other sites get nothing.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if headers.get("content-type", "").startswith("text/html"):
            headers["Content-Security-Policy"] = policy
            headers["Cache-Control"] = "no-store"
        return response
