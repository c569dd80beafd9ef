"""The hotline running against the real Asterisk: the bridge (AMI), the IVR (FastAGI) and the roster
loop, as `hotline bridge` runs them, in a thread of the test process on the suite's database and
Redis. The configuration is a copy of `config/` in which only what a test varies is changed
(prompt and voicemail folders, service hours)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.bootstrap import Context
from hotline.bridge.runner import run_bridge
from hotline.live.publisher import live_keys
from ivr.waiting import LIVE_QUEUES_KEY
from settings.files import load_config
from storage.tables import Call, IvrSession
from tests.pbx.asterisk import REPO, Asterisk, free_port_range
from tests.pbx.sipp import Caller, Phone, Sipp, SippRun

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float = 20, what: str = "condition", step: float = 0.1) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def sipp_media_port() -> int:
    """SIPp's -mp: it binds that port and the next three (audio, video, their RTCP)."""
    return free_port_range(4)


def pbx_config_dir(target: Path, sounds: Path, voicemail: Path, closed_queues: tuple[str, ...] = ()) -> Path:
    """A copy of config/ for the real-PBX tests. Every queue is open all day, except `closed_queues`,
    whose schedule is the one minute after midnight or after noon, whichever is at least six hours
    away (so they are closed now, whatever the day; a window never crosses midnight)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO / "config", target, ignore=shutil.ignore_patterns("asterisk"))
    ivr = (target / "ivr.yaml").read_text()
    ivr, n1 = re.subn(r"^  dir: var/sounds$", f"  dir: {sounds}", ivr, flags=re.MULTILINE)
    ivr, n2 = re.subn(r"^  dir: /var/spool/asterisk/hotline-voicemail$", f"  dir: {voicemail}", ivr, flags=re.MULTILINE)
    assert n1 == n2 == 1, "config/ivr.yaml no longer has the sounds/voicemail dirs the tests replace"
    (target / "ivr.yaml").write_text(ivr)
    hours = (target / "service_hours.yaml").read_text()
    closed_window = "00:00-00:01" if 6 <= datetime.now(ZoneInfo("Asia/Shanghai")).hour < 18 else "12:00-12:01"
    hours = hours.replace("schedules:\n", "schedules:\n  pbx_closed:\n    days: every_day\n"
                          f'    hours: ["{closed_window}"]\n', 1)  # fmt: skip
    hours = re.sub(r"schedule: workday_5x8", "schedule: always", hours)
    for queue in closed_queues:
        hours, count = re.subn(rf"(name: {re.escape(queue)},[^}}]*schedule: )always", r"\1pbx_closed", hours)
        assert count == 1, f"queue {queue} not in service_hours.yaml"
    (target / "service_hours.yaml").write_text(hours)
    return target


class HotlinePbx:
    """The hotline's bridge + IVR connected to `asterisk`; start() / stop() / restart()."""

    def __init__(self, base: Context, asterisk: Asterisk, workdir: Path, sounds: Path) -> None:
        self.base = base
        self.asterisk = asterisk
        self.workdir = workdir
        self.sounds = sounds
        self.voicemail = workdir / "voicemail"
        self.voicemail.mkdir(parents=True, exist_ok=True)
        self.sipp = Sipp(workdir, asterisk.ports.sip)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._runs: list[SippRun] = []
        self._free_callers = list(asterisk.ports.callers)
        self.context: Context | None = None

    # ---- the hotline side ----

    def make_context(self, *, closed_queues: tuple[str, ...] = (), **settings: Any) -> Context:
        """The suite's context with settings for this Asterisk (AMI, FastAGI port, the softphones'
        WebSocket) and the test copy of config/; `settings` override more."""
        config_dir = pbx_config_dir(self.workdir / "config", self.sounds, self.voicemail, closed_queues)
        host, port, username, secret = self.asterisk.ami
        updated = self.base.settings.model_copy(
            update={
                "config_dir": config_dir,
                "ami_host": host,
                "ami_port": port,
                "ami_username": username,
                "ami_secret": secret,
                "agi_host": "127.0.0.1",
                "agi_port": self.asterisk.ports.agi,
                "sip_ws_url": f"ws://127.0.0.1:{self.asterisk.ports.http}/ws",
                "sip_domain": "127.0.0.1",
                **settings,
            }
        )
        self.context = replace(self.base, settings=updated, config=load_config(config_dir))
        return self.context

    def wait_connected(self) -> None:
        """The IVR listens on its FastAGI port and the bridge is logged in to the AMI."""
        wait_for(self._agi_listening, 30, "the IVR to listen on its FastAGI port")
        wait_for(self._ami_logged_in, 30, "the bridge to log in to the AMI")

    def start(self, *, closed_queues: tuple[str, ...] = (), **settings: Any) -> HotlinePbx:
        """`settings` as for make_context (e.g. `ami_port` of a relay the test can cut)."""
        self.make_context(closed_queues=closed_queues, **settings)
        self._error = None
        ready = threading.Event()

        def main() -> None:
            async def run() -> None:
                self._loop = asyncio.get_running_loop()
                assert self.context is not None
                self._task = asyncio.create_task(run_bridge(self.context))
                ready.set()
                await self._task

            try:
                asyncio.run(run())
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # reported by the test that waits on it
                self._error = exc
            finally:
                ready.set()

        self._thread = threading.Thread(target=main, name="hotline-pbx", daemon=True)
        self._thread.start()
        ready.wait(10)
        self.wait_connected()
        return self

    def _agi_listening(self) -> bool:
        if self._error is not None:
            raise AssertionError(f"the hotline bridge failed: {self._error!r}") from self._error
        try:
            with socket.create_connection(("127.0.0.1", self.asterisk.ports.agi), timeout=1):
                return True
        except OSError:
            return False

    def _ami_logged_in(self) -> bool:
        if self._error is not None:
            raise AssertionError(f"the hotline bridge failed: {self._error!r}") from self._error
        return bool(
            re.search(rf"^\s*{self.asterisk.config.ami_username}\s", self.asterisk.cli("manager show connected"), re.M)
        )

    def stop(self) -> None:
        for run in self._runs:
            run.stop()
        self._runs.clear()
        if self._loop is not None and self._task is not None and not self._task.done():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(30)
            assert not self._thread.is_alive(), "the hotline bridge did not stop within 30 s:\n" + _stacks()
        self._thread = self._loop = self._task = None

    def restart(self, **options: Any) -> HotlinePbx:
        self.stop()
        return self.start(**options)

    # ---- SIP callers and phones ----

    def call(self, caller: Caller, calls: int = 1, rate: float = 1.0) -> SippRun:
        """Place a call from a carrier port (callers must not outnumber Ports.callers at once)."""
        port = self._free_callers.pop(0)
        self._free_callers.append(port)
        run = self.sipp.call(caller, port, sipp_media_port(), calls, rate)
        self._runs.append(run)
        return run

    def phone(self, name: str, phone: Phone) -> SippRun:
        """Answer as the lawyer's SIP phone PJSIP/<name> (2001…2004), or "carrier" for the citizen side."""
        port = self.asterisk.ports.carrier if name == "carrier" else self.asterisk.ports.phones[name]
        run = self.sipp.phone(phone, port, sipp_media_port())
        self._runs.append(run)
        return run

    # ---- what the hotline recorded ----

    def ivr_session(self, timeout: float = 20, **where: Any) -> IvrSession:
        """The one finished IVR session (ended_at set) matching `where` (e.g. caller_number=...)."""
        assert self.context is not None

        def probe() -> IvrSession | None:
            with self.context.sessions() as db:  # type: ignore[union-attr]
                query = select(IvrSession).filter_by(**where).where(IvrSession.ended_at.is_not(None))
                return db.scalars(query).first()

        try:
            return wait_for(probe, timeout, f"a finished IVR session {where}")
        except AssertionError as exc:
            number = where.get("caller_number")
            detail = self.asterisk.call_log(number) if number else ""
            raise AssertionError(f"{exc}; Asterisk's log of the call:\n{detail}") from None

    def call_row(self, timeout: float = 20, **where: Any) -> Call:
        """The ended call (outcome not in_progress) matching `where`."""
        assert self.context is not None

        def probe() -> Call | None:
            with self.context.sessions() as db:  # type: ignore[union-attr]
                query = select(Call).filter_by(**where).where(Call.outcome != "in_progress")
                return db.scalars(query).first()

        try:
            return wait_for(probe, timeout, f"an ended call {where}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; calls recorded: {self.calls()}") from None

    def live_queue(self, queue: str, timeout: float = 20) -> dict[str, Any]:
        """The bridge's live snapshot of `queue` (what the IVR decides waits and offers on)."""
        assert self.context is not None
        client = self.context.redis.client

        def probe() -> dict[str, Any] | None:
            raw = client.hget(LIVE_QUEUES_KEY, queue)
            return json.loads(raw) if raw else None

        return wait_for(probe, timeout, f"the live state of queue {queue}")

    def live_call(self, caller_number: str, state: str | None = None, timeout: float = 60) -> dict[str, Any]:
        """The bridge's live view of the call from `caller_number` (in `state`, e.g. "talking"), as the
        consoles read it: what the console's screen-pop and transfer act on."""
        assert self.context is not None
        client = self.context.redis.client

        def probe() -> dict[str, Any] | None:
            for raw in client.hvals(live_keys().calls):
                view = json.loads(raw)
                if view.get("caller_number") == caller_number and state in (None, view.get("state")):
                    return view  # type: ignore[no-any-return]
            return None

        return wait_for(probe, timeout, f"the live call from {caller_number} ({state or 'any state'})")

    def wait_session(self, predicate: Callable[[IvrSession], bool], timeout: float = 30) -> IvrSession:
        """The first finished IVR session for which `predicate` holds."""
        return wait_for(lambda: self._first(IvrSession, predicate), timeout, "an IVR session as expected")

    def wait_call(self, predicate: Callable[[Call], bool], timeout: float = 30) -> Call:
        """The first call row for which `predicate` holds."""
        return wait_for(lambda: self._first(Call, predicate), timeout, "a call row as expected")

    def _first(self, table: type[T], predicate: Callable[[T], bool]) -> T | None:
        assert self.context is not None
        with self.context.sessions() as db:
            return next((row for row in db.scalars(select(table)) if predicate(row)), None)

    def calls(self) -> list[dict[str, Any]]:
        """Every call row, as dicts (for failure messages)."""
        assert self.context is not None
        with self.context.sessions() as db:
            return [
                {
                    column: getattr(row, column)
                    for column in ("linkedid", "caller_number", "queue", "outcome", "agent_interface", "direction")
                }
                for row in db.scalars(select(Call))
            ]


def _stacks() -> str:
    """Where every thread of this process is, but the test's own: what a bridge that does not stop
    waits for (its loop, or the worker threads that asyncio.run waits for when it closes)."""
    frames = sys._current_frames()
    out = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident or -1)
        if frame is None or thread is threading.current_thread():
            continue
        out.append(f"--- thread {thread.name}\n" + "".join(traceback.format_stack(frame)))
    return "\n".join(out)
