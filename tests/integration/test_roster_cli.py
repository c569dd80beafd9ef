"""`hotline roster` as an admin meets it: import with every error listed, coverage, show."""

from __future__ import annotations

import json
from pathlib import Path

from hotline.accounts import create_user
from hotline.demo import DEMO_USERS
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.conftest import REPO
from tests.integration.test_cli import hotline, isolated_env  # noqa: F401 (fixture)
from ticketing.domain.roles import Role


def test_roster_commands(isolated_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    # What `hotline setup` does, in-process (faster): the schema and the demo lawyers lawyer1 and lawyer2.
    engine = make_engine(f"sqlite:///{Path(isolated_env['HOTLINE_DATA_DIR']) / 'hotline.db'}")
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        for demo in DEMO_USERS:
            if demo.role is Role.LAWYER:
                create_user(session, demo.username, demo.password, demo.role, demo.display_name, None, demo.interface)
    engine.dispose()
    bad = tmp_path / "值班表.csv"
    bad.write_bytes(
        "律师,日期,开始,结束,队列/技能\nlawyer1,2026-12-01,09:00,08:00,法律咨询\nnobody,2026-12-01,09:00,10:00,x\n".encode(
            "gb18030"
        )
    )
    refused = hotline("roster", "import", str(bad), env=isolated_env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.startswith("值班表.csv:")]
    assert [line.split(": ")[0] for line in lines] == [
        "值班表.csv:2:结束",
        "值班表.csv:3:律师",
        "值班表.csv:3:队列/技能",
        "值班表.csv",
    ]
    assert lines[-1] == "值班表.csv: 3 error(s); nothing imported"
    sample = str(REPO / "config" / "roster.sample.csv")
    imported = hotline("roster", "import", sample, env=isolated_env)
    assert imported.returncode == 0, imported.stderr
    assert "imported 19 shift(s) on 7 date(s) (2026-11-30 – 2026-12-06), replacing 0" in imported.stdout
    report = hotline(
        "roster",
        "coverage",
        "--from",
        "2026-12-05",
        "--to",
        "2026-12-05",
        "--queue",
        "zonghe",
        "--json",
        env=isolated_env,
    )
    assert report.returncode == 0, report.stderr
    [zonghe] = json.loads(report.stdout)["queues"]
    # Saturday: lawyer1 09:00–21:00, lawyer2 21:00–次日09:00, and Friday night is not covered.
    assert (zonghe["open_minutes"], zonghe["gap_minutes"]) == (1440, 540)
    shown = hotline("roster", "show", "--date", "2026-12-06", env=isolated_env)
    assert shown.returncode == 0 and shown.stdout.count("\n") == 3 and "21:00–次日09:00" in shown.stdout
