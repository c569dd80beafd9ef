"""Page routes: each page checks who is signed in and redirects to /login when nobody is.

A page is a static HTML shell in hotline/web/static/; it learns the user from /api/auth/me and its
data from the API, where every call checks the role again. Responses carry a strict
Content-Security-Policy (no inline script, nothing from other origins but the SIP WebSocket).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.api.sessions import HOME, safe_next, signed_in
from hotline.bootstrap import Context
from hotline.labels import labels_of
from ticketing.domain.roles import Role

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: npm installs the browser libraries here (scripts/_setup.sh runs `npm ci`).
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_FILES = {"echarts.min.js": NODE_MODULES / "echarts" / "dist" / "echarts.min.js"}
#: URL prefix -> npm folder served as it is (SIP.js as ES modules; the API documentation's viewers).
VENDOR_DIRS = {
    "sip.js": NODE_MODULES / "sip.js" / "lib",
    "swagger-ui": NODE_MODULES / "swagger-ui-dist",
    "redoc": NODE_MODULES / "redoc" / "bundles",
}

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
    "/admin": Page("admin.html", frozenset({Role.ADMIN})),
}


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


#: `{{group:code}}` in a shell: a label, filled in as the page is served (the sign-in page included,
#: which cannot ask /api/labels without a session).
_LABEL_TOKEN = re.compile(r"\{\{(\w+):([\w-]+)\}\}")
_rendered: dict[tuple[str, int], str] = {}


def render_shell(file: str, context: Context) -> HTMLResponse:
    """A page's HTML shell with its labels filled in (escaped), built once per configuration."""
    labels = labels_of(context)
    key = (file, id(labels))
    if key not in _rendered:
        shell = (STATIC_DIR / file).read_text(encoding="utf-8")
        _rendered[key] = _LABEL_TOKEN.sub(lambda m: html.escape(labels.get(m[1], {}).get(m[2], m[2])), shell)
    return HTMLResponse(_rendered[key])


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
        return render_shell(page.file, _context(request))

    show.__name__ = f"page_{page.file.removesuffix('.html')}"
    return show


for _path in PAGES:
    router.add_api_route(_path, _page(_path), methods=["GET"], response_model=None)


@router.get("/login", response_model=None)
def login_page(request: Request, next: str | None = None) -> Response:
    user = signed_in(request, _context(request))
    if user is not None:
        return RedirectResponse(safe_next(next) or HOME[user.role], status_code=303)
    return render_shell("login.html", _context(request))


@router.get("/", response_model=None)
def root(request: Request) -> Response:
    user = signed_in(request, _context(request))
    return RedirectResponse(HOME[user.role] if user else "/login", status_code=303)


@dataclass(frozen=True)
class DocViewer:
    """One of the API documentation's two viewers; both pages are this one shell (no inline script:
    /static/docs.js starts whichever library the page loaded)."""

    title: str
    stylesheet: str
    script: str
    container: str
    library: str


DOC_VIEWERS = {
    "/docs": DocViewer("API 文档", "/vendor/swagger-ui/swagger-ui.css", "/vendor/swagger-ui/swagger-ui-bundle.js",
                       "swagger-ui", "Swagger UI"),
    "/redoc": DocViewer("API 参考", "/static/redoc.css", "/vendor/redoc/redoc.standalone.js", "redoc", "ReDoc"),
}  # fmt: skip


def _doc_page(viewer: DocViewer) -> Callable[[], Response]:
    body = (
        '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{viewer.title} — 12348</title>\n"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
        f'<link rel="stylesheet" href="{viewer.stylesheet}">\n'
        f'<script src="{viewer.script}" defer></script>\n<script src="/static/docs.js" defer></script>\n'
        f'</head>\n<body>\n<div id="{viewer.container}"><p id="docs-missing">'
        f"API 文档组件未安装：运行 scripts/run 或 npm ci / {viewer.library} not installed</p></div>\n</body>\n</html>\n"
    )

    def show() -> Response:
        """The API's documentation on /openapi.json, from npm (no CDN, no inline script)."""
        return HTMLResponse(body)

    show.__name__ = f"doc_page_{viewer.container.replace('-', '_')}"
    return show


for _path, _viewer in DOC_VIEWERS.items():
    router.add_api_route(_path, _doc_page(_viewer), methods=["GET"], response_model=None)


@router.get("/favicon.ico", response_model=None)
def favicon() -> Response:
    return FileResponse(
        STATIC_DIR / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


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


def content_security_policy(sip_ws_url: str | None, inline_styles: bool = False) -> str:
    """The pages' policy: scripts, styles, images and connections from this origin only (plus the SIP
    WebSocket). `inline_styles` is for /redoc alone: ReDoc styles itself with styled-components,
    which writes <style> elements; its scripts stay as strict as everywhere else."""
    connect = ["'self'"]
    if sip_ws_url:
        parts = urlsplit(sip_ws_url)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'",
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
    for prefix, folder in VENDOR_DIRS.items():
        if folder.is_dir():
            app.mount(f"/vendor/{prefix}", StaticFiles(directory=folder), name=f"vendor-{prefix}")
        else:
            logger.warning("browser library %s not installed (%s missing): run `npm ci`", prefix, folder)
    context: Context = app.state.context
    policy = content_security_policy(context.settings.sip_ws_url)
    redoc_policy = content_security_policy(context.settings.sip_ws_url, inline_styles=True)

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
            headers["Content-Security-Policy"] = redoc_policy if request.url.path == "/redoc" else policy
            headers["Cache-Control"] = "no-store"
        return response
