"""Cross-site request refusal for the consoles' cookie: a state change (POST, PUT, PATCH, DELETE)
authenticated by the session cookie must come from a page of this site (its Origin, or failing that
its Referer, names this host). SameSite=Strict already keeps the cookie off most cross-site requests;
this check does not depend on the browser getting that right. Requests with `Authorization: Bearer`
carry no ambient credential and are not checked, except that any request naming a foreign Origin is
refused."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.api.deps import SESSION_COOKIE

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def same_site(source: str | None, host: str | None) -> bool:
    """Whether an Origin or Referer value names `host` (the request's Host header, host[:port])."""
    if not source or not host or source == "null":
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def refusal(headers: dict[str, str]) -> str | None:
    """Why a request with these (lower-cased) headers is refused, or None."""
    origin = headers.get("origin")
    host = headers.get("host")
    if origin is not None and not same_site(origin, host):
        return "foreign origin"
    if headers.get("authorization", "").lower().startswith("bearer "):
        return None
    if f"{SESSION_COOKIE}=" not in headers.get("cookie", ""):
        return None
    if origin is None and not same_site(headers.get("referer"), host):
        return "no Origin or Referer of this site"
    return None


class SameOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
            why = refusal(headers)
            if why is not None:
                body = json.dumps(
                    {
                        "error": {
                            "id": "cross_site_request",
                            "message": "跨站请求被拒绝 / cross-site request refused: " + why,
                            "details": {},
                        }
                    },
                    ensure_ascii=False,
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
