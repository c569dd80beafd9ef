"""Work-order workflow at provincial scale on PostgreSQL: topic statistics, the 督办 sweep, the call-back SLA.

    .venv/bin/python scripts/bench_workflow.py [--tickets 500000] [--overdue 2000]
        [--url postgresql://postgres@127.0.0.1:5432/test]

Fills `tickets` (spread over the 12 months of 2025, 16 categories, forwarded to the sample stations)
and `callback_tasks` with synthetic rows — the workflow tables are emptied first and afterwards:
point it at a scratch database — then times, best of 5 where repeatable:
topic counts for a month by day and for the year by month, station roll-up, the monthly hot-topic
report, the call-back SLA of a month, and the escalation sweep (first pass escalating `--overdue`
open tickets' lapses, then the pass every minute that finds nothing new).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hotline.bootstrap import ticket_policy
from settings.env import Settings
from settings.files import load_config
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from ticketing.escalation import escalate_overdue
from ticketing.follow_up import sla_report
from ticketing.stations import import_stations
from ticketing.statistics import hot_topics, station_counts, topic_counts

REPO = Path(__file__).resolve().parent.parent
TABLES = "ticket_escalations, callback_attempts, callback_tasks, ticket_events, ticket_calls, outbox, tickets"

# Categories in rough proportion to what 12348 lines report; description lengths vary.
FILL_TICKETS = """
INSERT INTO tickets (code, channel, status, description, category, subcategory, priority, flags,
                     station_id, accept_due_at, finish_due_at, created_at, updated_at, version)
SELECT '12348-B-' || n, 'phone',
       CASE WHEN n <= :overdue THEN 'forwarded' WHEN n % 10 < 6 THEN 'closed' ELSE 'followed_up' END,
       '咨询' || c.name || '问题，电话1380808' || lpad((n % 10000)::text, 4, '0') || repeat('，具体情况', n % 8),
       c.name, c.name || '-' || (n % 3), 'normal', '[]',
       CASE WHEN n <= :overdue OR n % 4 = 0 THEN s.ids[1 + n % array_length(s.ids, 1)] END,
       CASE WHEN n <= :overdue THEN t + interval '1 day' END,
       CASE WHEN n <= :overdue THEN t + interval '5 days' END,
       t, t, 1
FROM (SELECT n, timestamptz '2025-01-01 00:00+08' + (n * interval '1 second') * (365 * 86400.0 / :rows) AS t,
             (n::bigint * 7919) % 100 AS pick
      FROM generate_series(1, :rows) AS n) AS g
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM stations) AS s
JOIN (VALUES (0, 30, '劳动争议'), (30, 50, '婚姻家庭'), (50, 62, '债权债务'), (62, 71, '交通事故'),
             (71, 78, '房产纠纷'), (78, 84, '合同纠纷'), (84, 88, '侵权'), (88, 91, '消费'), (91, 93, '刑事'),
             (93, 95, '医疗纠纷'), (95, 96, '拆迁安置'), (96, 97, '行政'), (97, 98, '建设工程'),
             (98, 99, '公司'), (99, 100, '知识产权')) AS c(lo, hi, name)
  ON g.pick >= c.lo AND g.pick < c.hi
"""
FILL_TASKS = """
INSERT INTO callback_tasks (ticket_id, due_date, status, satisfaction, created_at, completed_at, version)
SELECT id, (created_at + interval '4 days')::date,
       CASE WHEN id % 10 < 8 THEN 'reached' WHEN id % 10 = 8 THEN 'unreachable' ELSE 'pending' END,
       CASE WHEN id % 10 < 8 THEN 'satisfied' END,
       created_at + interval '1 hour',
       CASE WHEN id % 10 < 9 THEN created_at + (id % 7) * interval '1 day' END, 1
FROM tickets WHERE status IN ('closed', 'followed_up')
"""


def best_of(label: str, runs: int, work: Callable[[], Any]) -> Any:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        timings.append((time.perf_counter() - started) * 1000)
    print(f"{label:<44} best={min(timings):>7.0f} ms  median={statistics.median(timings):>7.0f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--overdue", type=int, default=2_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="leave the rows in place (to EXPLAIN queries)")
    args = parser.parse_args()
    settings = Settings(config_dir=REPO / "config", database_url=args.url)
    config = load_config(settings.config_dir)
    policy = ticket_policy(settings, config)
    engine = make_engine(args.url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        import_stations(session, config.stations.root)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} CASCADE"))
        started = time.perf_counter()
        connection.execute(text(FILL_TICKETS), {"rows": args.tickets, "overdue": args.overdue})
        connection.execute(text(FILL_TASKS))
        print(f"filled {args.tickets:,} tickets and their call-back tasks in {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE tickets"))
        connection.execute(text("VACUUM ANALYZE callback_tasks"))

    tz = policy.tz
    with sessions() as session:
        month = best_of(
            "topic counts, November by day",
            5,
            lambda: topic_counts(session, date(2025, 11, 1), date(2025, 11, 30), tz, "day"),
        )
        best_of(
            "topic counts, 2025 by month",
            5,
            lambda: topic_counts(session, date(2025, 1, 1), date(2025, 12, 31), tz, "month"),
        )
        best_of(
            "station roll-up, November", 5, lambda: station_counts(session, date(2025, 11, 1), date(2025, 11, 30), tz)
        )
        report = best_of("hot-topic report, November", 5, lambda: hot_topics(session, date(2025, 11, 1), tz))
        start, end = datetime(2025, 10, 31, 16, tzinfo=UTC), datetime(2025, 11, 30, 16, tzinfo=UTC)
        sla, _ = best_of(
            "call-back SLA, November", 5, lambda: sla_report(session, start, end, policy, 3, date(2025, 12, 31))
        )
    print(
        f"  November: {month.total:,} tickets; top {report.top[0].category} {report.top[0].count:,}; "
        f"SLA {sla.rate} over {sla.closed:,} closings"
    )

    now = datetime(2026, 1, 1, tzinfo=UTC)
    created = best_of("escalation sweep, first pass", 1, lambda: escalate_overdue(sessions, now))
    print(f"  escalated {len(created):,} lapses of {args.overdue:,} overdue tickets")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE ticket_escalations"))  # as autovacuum would after the burst
    best_of("escalation sweep, nothing new (every minute)", 5, lambda: escalate_overdue(sessions, now))
    if args.keep:
        return
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} CASCADE"))


if __name__ == "__main__":
    main()
