"""Roster import, coverage and a reconciliation plan at the size of a provincial hotline.

    .venv/bin/python scripts/bench_roster.py [--lawyers 100] [--days 31] [--url sqlite:////tmp/bench_roster.db]

Makes a month's CSV roster (each lawyer a morning and an afternoon shift every day, about 6,200 rows
for 100 lawyers), then times: reading and validating it, importing it into the database (the
duty_shifts table is emptied first: point --url at a scratch database), a coverage report of every
queue for the month, and one reconciliation plan for a busy minute. Best of 3 each.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from hotline.accounts import create_user
from hotline.rosters import store
from hotline.rosters.membership import ActualMember, desired_membership, plan_reconciliation
from hotline.rosters.reader import read_roster
from hotline.rosters.service import coverage, import_roster
from hotline.rosters.service_hours import queue_directory
from hotline.rosters.validate import validate_table
from settings.calendar import build_calendar
from settings.files import load_config
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.tables import DutyShift, User
from ticketing.domain.roles import Role

QUEUES = ["法律咨询、婚姻家庭", "劳动争议、综合咨询", "法律援助", "人民调解、投诉建议"]


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lawyers", type=int, default=100)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--url", default="sqlite:////tmp/bench_roster.db")
    args = parser.parse_args()
    config = load_config(Path("config")).service_hours
    engine = make_engine(args.url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.execute(delete(DutyShift))
        existing = set(session.scalars(select(User.username).where(User.username.like("bench%"))))
        for i in range(args.lawyers):
            if f"bench{i}" not in existing:
                create_user(
                    session, f"bench{i}", "bench-password-1", Role.LAWYER, f"律师{i}", interface=f"PJSIP/{2000 + i}"
                )
    first = date(2026, 12, 1)
    lines = ["律师,日期,开始,结束,队列/技能,语言"]
    for day in (first + timedelta(days=n) for n in range(args.days)):
        for i in range(args.lawyers):
            queue = QUEUES[i % len(QUEUES)]
            lines.append(f"bench{i},{day},09:00,12:00,{queue},普通话")
            lines.append(f"bench{i},{day},13:30,17:30,{queue},普通话")
    data = ("\n".join(lines) + "\n").encode()
    print(f"roster: {len(lines) - 1:,} rows, {len(data):,} bytes, {args.lawyers} lawyers, {args.days} days")

    with sessions() as session:
        lawyers = store.lawyer_directory(session)
    queues = queue_directory(config)
    seconds, validation = best_of(3, lambda: validate_table(read_roster(data, "bench.csv"), lawyers, queues))
    assert not validation.errors, validation.errors[:3]
    print(f"read + validate: {seconds * 1000:.0f} ms ({len(validation.rows) / seconds:,.0f} rows/s)")

    def load() -> Any:
        with sessions.begin() as session:
            return import_roster(session, data, "bench.csv", config, "bench", datetime.now(UTC))

    seconds, result = best_of(3, load)
    assert result.ok
    print(f"import (replace {result.replaced:,} shifts, insert {result.shifts:,}): {seconds * 1000:.0f} ms")

    calendar = build_calendar(config.calendar)
    last = first + timedelta(days=args.days - 1)
    with sessions() as session:
        seconds, report = best_of(3, lambda: coverage(session, config, calendar, first, last))
    print(f"coverage of {len(report.queues)} queues over {args.days} days: {seconds * 1000:.0f} ms")

    with sessions() as session:
        shifts = store.load_shifts(session, first, first)
    now = datetime(2026, 12, 1, 10, 0)
    queue_names = [q.name for q in config.queues]
    actual = {
        name: {f"PJSIP/{2000 + i}": ActualMember(f"PJSIP/{2000 + i}", "x") for i in range(0, args.lawyers, 3)}
        for name in queue_names
    }

    def plan() -> Any:
        desired = desired_membership(shifts, now, queues=queue_names)
        return plan_reconciliation(desired, actual, managed=lawyers.interfaces)

    seconds, actions = best_of(3, plan)
    print(f"desired membership + plan ({len(shifts)} shifts, {len(actions)} actions): {seconds * 1000:.1f} ms")
    with sessions.begin() as session:
        session.execute(delete(DutyShift))
    engine.dispose()


if __name__ == "__main__":
    main()
