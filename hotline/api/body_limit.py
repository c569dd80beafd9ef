"""The request body limit, enforced on the bytes as they arrive (chunked bodies and multipart
uploads included), before any route, parser or authentication sees them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1_000_000


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes the limit; FastAPI's body parsing lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"请求体过大 / request body over {limit} bytes")
        self.limit = limit


def too_large_body(limit: int) -> bytes:
    error = {
        "id": "payload_too_large",
        "message": f"请求体过大 / request body over {limit} bytes",
        "details": {"limit": limit},
    }
    return json.dumps({"error": error}, ensure_ascii=False).encode()


class BodyLimit:
    """ASGI middleware: a declared Content-Length over the limit is refused before the app runs; a
    body without one (chunked) is counted while it streams and refused the moment it passes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        received = 0
        started = False
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not started and not refused:
                        # Answer now: whatever the layers in between make of the error below
                        # (a middleware may turn it into a 400), the client gets the 413.
                        refused = True
                        await self._refuse(send)
                    raise BodyTooLarge(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has gone out; the app's own answer to the broken body is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send) -> None:
        body = too_large_body(self.limit)
        headers: list[Any] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None
