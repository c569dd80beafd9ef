"""Failover on this machine, with servers the test starts itself on free loopback ports:

- Redis: a master, a replica and a Sentinel; the master is killed, the Sentinel promotes the replica,
  and the same clients (a `redis+sentinel://` URL, as HOTLINE_REDIS_URL) keep writing and reading
  the consoles' feed and keep enqueueing and running rq jobs.
- PostgreSQL: a primary and a streaming replica (initdb, pg_basebackup); the primary is stopped, the
  replica promoted, and the service on a multi-host URL (target_session_attrs=read-write) reports the
  database down, then up again, without a restart, and keeps what was written before.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue
from sqlalchemy import text

from hotline.jobs.pool import InProcessWorker, run_worker
from hotline.redis_conn import aclose_client, async_redis_client, close_client, redis_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout  # a bound on waiting, not a speed requirement
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the server is away: that is what the test waits through
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


# -- Redis Sentinel -------------------------------------------------------------------------------
@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[dict[str, Any]]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("SKIPPED LOUDLY: redis-server is not installed (apt-get install redis-server)")
    master, replica, sentinel = _free_port(), _free_port(), _free_port()
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, *args: str) -> None:
        (tmp_path / name).mkdir()
        processes[name] = subprocess.Popen(
            [server, *args, "--dir", str(tmp_path / name), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    start("master", "--port", str(master))
    start("replica", "--port", str(replica), "--replicaof", "127.0.0.1", str(master))
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel}\nbind 127.0.0.1\nsentinel monitor hotline 127.0.0.1 {master} 1\n"
        "sentinel down-after-milliseconds hotline 1000\nsentinel failover-timeout hotline 10000\n"
    )
    processes["sentinel"] = subprocess.Popen(
        [server, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        replica_client = redis.Redis(port=replica)
        _until(lambda: replica_client.info("replication")["master_link_status"] == "up", 30, "the replica in sync")
        probe = redis.Redis(port=sentinel)
        _until(lambda: probe.execute_command("SENTINEL", "REPLICAS", "hotline"), 30, "the Sentinel to see the replica")
        replica_client.close()
        probe.close()
        yield {"url": f"redis+sentinel://127.0.0.1:{sentinel}/hotline/0", "master": master, "replica": replica,
               "processes": processes}  # fmt: skip
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def _announced() -> str:
    """An rq job of the failover test (run by the test's worker)."""
    return "ran"


def test_redis_sentinel_failover_keeps_the_feed_and_rq_working(sentinel_setup: dict[str, Any]) -> None:
    url = sentinel_setup["url"]
    client = redis_client(url)
    assert client.connection_pool.get_master_address()[1] == sentinel_setup["master"]
    client.xadd("hotline:feed", {"data": '{"type":"before"}'})
    queue = Queue("default", connection=client)
    before = queue.enqueue(_announced)
    assert client.wait(1, 5000) == 1  # the replica has both before the master dies

    async def read_feed(last_id: str) -> list[bytes]:
        reader = async_redis_client(url)
        try:
            found = await reader.xread({"hotline:feed": last_id}, count=10, block=1000)
            return [fields[b"data"] for _, entries in found for _, fields in entries]
        finally:
            await aclose_client(reader)

    sentinel_setup["processes"]["master"].send_signal(signal.SIGKILL)
    sentinel_setup["processes"]["master"].wait(timeout=10)

    # The same client object: it asks the Sentinel again and writes to the promoted replica.
    _until(lambda: client.xadd("hotline:feed", {"data": '{"type":"after"}'}), 60, "a write after the failover")
    assert client.connection_pool.get_master_address()[1] == sentinel_setup["replica"]
    assert asyncio.run(read_feed("0")) == [b'{"type":"before"}', b'{"type":"after"}']
    after = queue.enqueue(_announced)
    # A pool worker builds its client from the URL, as `hotline worker` runs it (rq's own pool could not
    # follow a Sentinel-managed master).
    run_worker(url, "failover-worker", ["default"], worker_class=InProcessWorker, burst=True)
    before.refresh()
    after.refresh()
    assert before.get_status() == after.get_status() == "finished"
    assert before.return_value() == after.return_value() == "ran"
    close_client(client)


# -- PostgreSQL primary + streaming replica ---------------------------------------------------------
def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip(
            f"SKIPPED LOUDLY: PostgreSQL server binaries ({name}) are not installed (apt-get install postgresql)"
        )
    return found[-1]


@pytest.fixture
def postgres_pair() -> Iterator[dict[str, Any]]:
    initdb, pg_ctl, basebackup = _pg_bin("initdb"), _pg_bin("pg_ctl"), _pg_bin("pg_basebackup")
    # Not under pytest's private temp folder: the postgres account must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="hotline-pg-failover-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the servers as the postgres account
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("SKIPPED LOUDLY: running as root without runuser to start PostgreSQL as postgres")
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        os.chmod(root, 0o755)
    primary, replica = root / "primary", root / "replica"
    p_port, r_port = _free_port(), _free_port()

    def run(*argv: str) -> None:
        subprocess.run([*as_user, *argv], check=True, capture_output=True, cwd=root)

    run(initdb, "-D", str(primary), "-U", "postgres", "--auth=trust", "--no-sync")
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(f"port = {p_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
                   "wal_level = replica\nmax_wal_senders = 4\nfsync = off\nshared_buffers = 16MB\n")  # fmt: skip
    started: list[Path] = []
    try:
        run(pg_ctl, "-D", str(primary), "-l", str(root / "primary.log"), "-w", "start")
        started.append(primary)
        run(
            basebackup, "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres", "-D", str(replica), "-R", "-X", "stream"
        )
        run(pg_ctl, "-D", str(replica), "-l", str(root / "replica.log"), "-o", f"-p {r_port}", "-w", "start")
        started.append(replica)
        yield {"primary": primary, "replica": replica, "p_port": p_port, "r_port": r_port, "run": run,
               "pg_ctl": pg_ctl}  # fmt: skip
    finally:
        for data in reversed(started):
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_failover_to_the_promoted_replica_and_the_service_recovers(
    postgres_pair: dict[str, Any], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from hotline.app import create_app
    from hotline.bootstrap import build_context
    from settings.env import Settings
    from storage.migrate import upgrade

    p, r = postgres_pair["p_port"], postgres_pair["r_port"]
    url = (f"postgresql://postgres@/postgres?host=127.0.0.1:{p}&host=127.0.0.1:{r}"
           "&target_session_attrs=read-write&connect_timeout=2")  # fmt: skip
    settings = Settings(data_dir=tmp_path, database_url=url, config_dir=Path(__file__).resolve().parents[3] / "config")
    context = build_context(settings)
    try:
        upgrade(context.engine)
        with context.engine.begin() as connection:
            connection.execute(text("INSERT INTO periodic_runs (job, slot, scheduled_by, started_at) "
                                    "VALUES ('before-failover', 1, 'test', now())"))  # fmt: skip
            lsn = connection.execute(text("SELECT pg_current_wal_lsn()")).scalar()
            _until(lambda: connection.execute(
                text("SELECT bool_and(replay_lsn >= :lsn) FROM pg_stat_replication"), {"lsn": lsn}).scalar(),
                30, "the replica to replay the insert")  # fmt: skip
        with TestClient(create_app(context, schedule_jobs=False)) as client:
            assert client.get("/api/health").json()["database"]["ok"] is True
            postgres_pair["run"](postgres_pair["pg_ctl"], "-D", str(postgres_pair["primary"]), "-m", "fast", "stop")
            down = client.get("/api/health")
            assert down.status_code == 503 and down.json()["database"]["ok"] is False
            postgres_pair["run"](postgres_pair["pg_ctl"], "-D", str(postgres_pair["replica"]), "-w", "promote")
            _until(lambda: client.get("/api/health").status_code == 200, 60, "the service on the new primary")
        with context.engine.begin() as connection:  # the same pool: writes go to the promoted replica
            connection.execute(text("INSERT INTO periodic_runs (job, slot, scheduled_by, started_at) "
                                    "VALUES ('after-failover', 1, 'test', now())"))  # fmt: skip
            jobs = connection.execute(text("SELECT job FROM periodic_runs ORDER BY job")).scalars().all()
            port = connection.execute(text("SELECT current_setting('port')")).scalar()
        assert jobs == ["after-failover", "before-failover"] and int(port) == r
    finally:
        context.close()
