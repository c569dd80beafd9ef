"""Shared fixtures: the real database and Redis the suite runs against.

With HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL set (CI's second pass) the suite uses that PostgreSQL
and Redis server; otherwise a SQLite file and an embedded Redis, as `scripts/run` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from hotline.bootstrap import Context, ticket_policy
from hotline.redis_conn import RedisHandle, connect_redis
from settings.env import Settings
from settings.files import load_config
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.tables import Base, Station
from ticketing.stations import import_stations

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return Settings(
        data_dir=data_dir,
        config_dir=Path(os.environ.get("HOTLINE_TEST_CONFIG_DIR") or REPO / "config"),
        database_url=os.environ.get("HOTLINE_DATABASE_URL") or None,
        redis_url=os.environ.get("HOTLINE_REDIS_URL") or None,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.effective_database_url)
    if engine.dialect.name == "postgresql":
        # A clean schema each run: migrations are part of what is tested.
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_handle(settings: Settings) -> Iterator[RedisHandle]:
    handle = connect_redis(settings.redis_url, settings.data_dir)
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def context(settings: Settings, engine: Engine, redis_handle: RedisHandle) -> Context:
    config = load_config(settings.config_dir)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        import_stations(session, config.stations.root)
    return Context(settings, config, engine, sessions, redis_handle, ticket_policy(settings, config))


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table but the station directory, and flush Redis, after each test that used them."""
    yield
    if "context" not in request.fixturenames:
        return
    context: Context = request.getfixturevalue("context")
    with context.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != Station.__tablename__:
                connection.execute(delete(table))
    context.redis.client.flushdb()


@pytest.fixture
def session(context: Context) -> Iterator[Session]:
    with context.sessions() as session:
        yield session


def station_id(session: Session, code: str) -> int:
    from sqlalchemy import select

    found = session.scalar(select(Station.id).where(Station.division_code == code))
    assert found is not None, f"no station {code} in config/stations.yaml"
    return found


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its production cost makes every sign-in ~50 ms; tests use the same algorithm cheaply."""
    from argon2 import PasswordHasher

    import hotline.security

    original = hotline.security._hasher
    hotline.security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    hotline.security._hasher = original


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the recorded traces must be there: without them the bridge, call tracker and IVR
    protocol tests would all skip and the run would look green."""
    from tests.traces import AGI_TRACES, AMI, TRACES_MISSING

    if os.environ.get("CI") and (not AMI.is_dir() or AGI_TRACES is None):
        raise pytest.UsageError(f"{TRACES_MISSING}; CI must run the trace tests")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly, at the end, how many tests did not run for want of the recorded traces."""
    from tests.traces import TRACES_MISSING

    skipped = [r for r in terminalreporter.stats.get("skipped", []) if TRACES_MISSING in str(r.longrepr)]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} tests SKIPPED: {TRACES_MISSING}", red=True, bold=True)
