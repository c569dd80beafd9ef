"""KPI query over 1,000,000 Call rows on PostgreSQL (issue 3 target: under 200 ms).

    .venv/bin/python scripts/bench_kpi.py [--rows 1000000] [--url postgresql://postgres@127.0.0.1:5432/test]

Fills the `calls` table of that database with synthetic rows spread over 30 days (the table is
emptied first and afterwards: point it at a scratch database), then times compute_kpis for the
whole month at each granularity, best of 5: straight from the calls, and from the hourly rollup the
bridge keeps (rebuilt here once from the filled rows, as `hotline kpi rebuild` does after an import).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from hotline.reports.kpi import compute_kpis, rebuild
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

FILL = """
INSERT INTO calls (linkedid, direction, queue, caller_number, started_at, offered_at, answered_at, ended_at,
                   wait_seconds, talk_seconds, wrapup_seconds, outcome, in_hours, ivr_path, recording_paths)
SELECT 'bench.' || n, 'inbound', (ARRAY['zonghe','consult','legal-aid','mediation','complaint'])[1 + n % 5],
       '138' || lpad((n % 100000000)::text, 8, '0'), t, t,
       CASE WHEN r < 0.85 THEN t + make_interval(secs => w) END, t + interval '5 minutes',
       w, CASE WHEN r < 0.85 THEN 60 + (n % 600) END, CASE WHEN r < 0.85 THEN n % 30 END,
       CASE WHEN r < 0.85 THEN 'answered' WHEN r < 0.97 THEN 'abandoned' ELSE 'closed_hours' END,
       r < 0.97, '[]', '[]'
FROM (SELECT n, random() AS r, (n % 120)::float AS w,
             timestamptz '2026-10-01 00:00+08' + (n * interval '1 second') * (30 * 86400.0 / :rows) AS t
      FROM generate_series(1, :rows) AS n) AS s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    engine = make_engine(args.url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE calls CASCADE"))
        started = time.perf_counter()
        connection.execute(text(FILL), {"rows": args.rows})
        print(f"filled {args.rows:,} calls in {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE calls"))  # as autovacuum would after a bulk load
    sessions = make_session_factory(engine)
    tz = ZoneInfo("Asia/Shanghai")
    start, end = datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC)
    with sessions.begin() as session:
        t0 = time.perf_counter()
        rebuild(session, start, end, threshold_s=20)
        print(
            f"hourly rollup rebuilt from all calls in {time.perf_counter() - t0:.1f} s (one-off, `hotline kpi rebuild`)"
        )
    for source, rollup in (("calls", None), ("rollup", 20)):
        for granularity, by_queue in (("all", False), ("month", True), ("day", True), ("hour", False)):
            timings = []
            for _ in range(5):
                with sessions() as session:
                    t0 = time.perf_counter()
                    rows = compute_kpis(
                        session,
                        start,
                        end,
                        threshold_s=20,
                        tz=tz,
                        granularity=granularity,  # type: ignore[arg-type]
                        by_queue=by_queue,
                        rollup_threshold_s=rollup,
                    )
                    timings.append((time.perf_counter() - t0) * 1000)
            offered = sum(r.counts.offered for r in rows)
            print(
                f"from={source:<6} granularity={granularity:<5} by_queue={by_queue!s:<5} rows={len(rows):>4} "
                f"offered={offered:,} best={min(timings):.1f} ms median={statistics.median(timings):.1f} ms"
            )
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE calls, call_stats_hourly CASCADE"))


if __name__ == "__main__":
    main()
