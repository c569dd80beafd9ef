"""Throw-away Redis and PostgreSQL servers for fault tests: started by the test on free loopback
ports in temporary folders, stopped and started at will. Never the machine's shared ones."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, up: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'} in {timeout} s")


@dataclass
class RedisServer:
    """redis-server without persistence: a restart loses everything, like the outage in the issue."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_port(self.port, up=True)
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None
        _wait_port(self.port, up=False)

    def stop(self) -> None:
        self.kill()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of its own (initdb into a temporary folder), trust auth on loopback.
    As root it runs as the `postgres` user, which PostgreSQL requires."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hotline-pg-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        binaries = _postgres_bin()
        if binaries is None:
            pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
        data = self.folder / "pgdata"
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        user = "postgres" if os.geteuid() == 0 else None
        if not data.exists():
            if user:
                shutil.chown(self.folder, user)
            subprocess.run(
                [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
                check=True,
                capture_output=True,
                env=env,
                user=user,
            )
        command = [str(binaries / "postgres"), "-D", str(data), "-p", str(self.port), "-h", "127.0.0.1"]
        command += ["-k", str(data), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, user=user
        )
        _wait_port(self.port, up=True)
        time.sleep(0.5)  # accepting connections a moment after the socket opens
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: connections are cut
            self.process.wait(30)
            self.process = None
        _wait_port(self.port, up=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def service_env(
    postgres: PostgresServer, redis_server: RedisServer, data_dir: Path, port: int, workers: int = 2
) -> dict[str, str]:
    """The environment of a `hotline` command on these servers: nothing inherited from HOTLINE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_DATABASE_URL=postgres.url,
        HOTLINE_REDIS_URL=redis_server.url,
        HOTLINE_DATA_DIR=str(data_dir),
        HOTLINE_CONFIG_DIR=str(Path(__file__).resolve().parent.parent / "config"),
        HOTLINE_PORT=str(port),
        HOTLINE_AGI_PORT=str(free_port()),
        HOTLINE_WORKER_PROCESSES=str(workers),
        HOTLINE_DEMO_CALLS_PER_MINUTE="0",
    )
    return env
