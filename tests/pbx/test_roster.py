"""The duty roster on a real Asterisk: `hotline setup` with a real PBX (defect 10), the demo roster
as an explicit option, the reconciler's QueueAdd making Asterisk's queue members, and coverage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from hotline.accounts import create_user
from hotline.app import create_app
from hotline.demo import demo_roster_queues
from tests.pbx.asterisk import REPO
from tests.pbx.harness import HotlinePbx, wait_for
from ticketing.domain.roles import Role


def hotline_cli(pbx: HotlinePbx, *args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The `hotline` command as a deployer runs it, configured for this Asterisk and the suite's database."""
    context = pbx.context
    assert context is not None
    host, port, username, secret = pbx.asterisk.ami
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_DATA_DIR=str(data_dir),
        HOTLINE_CONFIG_DIR=str(context.settings.config_dir),
        HOTLINE_DATABASE_URL=context.settings.effective_database_url,
        HOTLINE_AMI_HOST=host,
        HOTLINE_AMI_PORT=str(port),
        HOTLINE_AMI_USERNAME=username,
        HOTLINE_AMI_SECRET=secret,
    )
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args], capture_output=True, text=True, env=env, timeout=120, cwd=REPO
    )


def test_setup_with_a_real_pbx_says_what_to_load_and_seats_the_demo_roster_only_when_asked(
    pbx_stopped: HotlinePbx, tmp_path: Path
) -> None:
    """Defect 10: with a real PBX `scripts/run` set up no roster, silently: every caller heard "no
    lawyer on duty" while the README said the demo roster was there."""
    pbx = pbx_stopped
    pbx.make_context()
    plain = hotline_cli(pbx, "setup", data_dir=tmp_path / "var")
    assert plain.returncode == 0, plain.stderr
    assert "no duty roster for" in plain.stderr and "hotline roster import" in plain.stderr
    assert "--demo-roster" in plain.stderr and "demo roster:" not in plain.stdout

    seeded = hotline_cli(pbx, "setup", "--demo-roster", data_dir=tmp_path / "var")
    assert seeded.returncode == 0, seeded.stderr
    assert "demo roster: " in seeded.stdout and "no duty roster" not in seeded.stderr

    # The bridge's roster loop makes Asterisk's queues match: QueueAdd for everyone on duty now.
    pbx.start()
    assert pbx.context is not None
    queues = [q.name for q in pbx.context.config.service_hours.queues]
    interfaces = {"lawyer1": "PJSIP/1001", "lawyer2": "PJSIP/1002"}
    expected = {queue: set() for queue in queues}
    for username, seated in demo_roster_queues(queues).items():
        for queue in seated:
            expected[queue].add(interfaces[username])
    members = wait_for(
        lambda: (m := {q: set(v) for q, v in pbx.asterisk.members().items()}) == expected and m,
        70,
        "Asterisk's queue members to match the demo roster",
    )
    assert members["zonghe"] == {"PJSIP/1001", "PJSIP/1002"}

    today = datetime.now(ZoneInfo(pbx.context.settings.timezone)).date().isoformat()
    coverage = hotline_cli(
        pbx, "roster", "coverage", "--from", today, "--to", today, "--json", data_dir=tmp_path / "var"
    )
    assert coverage.returncode == 0, coverage.stderr
    report = json.loads(coverage.stdout)
    assert {row["queue"] for row in report["queues"]} == set(queues)
    assert all(row["gaps"] == [] for row in report["queues"]), report["queues"]


def test_the_roster_and_the_console_drive_queue_membership_as_asterisk_reports_it(pbx: HotlinePbx) -> None:
    """A supervisor imports a roster (QueueAdd now), then a corrected one for the same day that drops
    a lawyer (QueueRemove now); a lawyer pauses, goes off duty and back on duty in the console
    (QueuePause). Each step checked against Asterisk's own `queue show` and AMI QueueStatus, and the
    coverage report follows the roster."""
    context, asterisk = pbx.context, pbx.asterisk
    assert context is not None
    with context.sessions.begin() as db:
        create_user(db, "boss", PASSWORD, Role.SUPERVISOR)
        create_user(db, "lawyer-a", PASSWORD, Role.LAWYER, "甲律师", interface="PJSIP/2001")
        create_user(db, "lawyer-b", PASSWORD, Role.LAWYER, "乙律师", interface="PJSIP/2002")
    today = datetime.now(ZoneInfo(context.settings.timezone)).date().isoformat()
    both = (
        "律师,日期,开始,结束,队列/技能\n"
        f"lawyer-a,{today},00:00,23:59,综合咨询、婚姻家庭\n"
        f"lawyer-b,{today},00:00,23:59,综合咨询\n"
    )

    def status() -> dict[tuple[str, str], dict[str, str]]:
        return {(m["Queue"], m["Location"]): m for m in asterisk.queue_status()}

    with TestClient(create_app(context)) as client:
        boss = _headers(client, "boss")
        imported = client.post("/api/rosters/import", files={"file": ("roster.csv", both.encode())}, headers=boss)
        assert imported.status_code == 200, imported.text
        assert imported.json()["membership"]["updated_now"] is True
        members = asterisk.members()
        assert set(members["zonghe"]) == {"PJSIP/2001", "PJSIP/2002"} and members["family"] == ["PJSIP/2001"]
        seated = status()
        assert seated[("family", "PJSIP/2001")]["Name"] == "甲律师"
        assert {key for key in seated if key[1] in ("PJSIP/2001", "PJSIP/2002")} == {
            ("zonghe", "PJSIP/2001"),
            ("zonghe", "PJSIP/2002"),
            ("family", "PJSIP/2001"),
        }

        # The corrected roster for the same day drops lawyer-a: removed from both queues now.
        only_b = f"律师,日期,开始,结束,队列/技能\nlawyer-b,{today},00:00,23:59,综合咨询\n"
        corrected = client.post("/api/rosters/import", files={"file": ("roster.csv", only_b.encode())}, headers=boss)
        assert corrected.status_code == 200, corrected.text
        members = asterisk.members()
        assert members["zonghe"] == ["PJSIP/2002"] and members["family"] == []
        assert not [key for key in status() if key[1] == "PJSIP/2001"]

        coverage = client.get("/api/rosters/coverage", params={"start": today, "end": today}, headers=boss)
        assert coverage.status_code == 200, coverage.text
        rows = {row["queue"]: row for row in coverage.json()["queues"]}
        assert rows["family"]["covered_minutes"] == 0 and rows["family"]["gap_minutes"] > 0
        assert rows["zonghe"]["covered_minutes"] >= 23 * 60 + 59

        # lawyer-b in the console: pause (培训), off duty (下线), on duty again.
        lawyer = _headers(client, "lawyer-b")
        for state, reason, paused in (("paused", "培训", "1"), ("off_duty", "下线", "1"), ("on_duty", "", "0")):
            body = {"state": state, **({"reason": reason} if state == "paused" else {})}
            changed = client.post("/api/console/state", json=body, headers=lawyer)
            assert changed.status_code == 200, changed.text
            member = status()[("zonghe", "PJSIP/2002")]
            assert (member["Paused"], member.get("PausedReason", "")) == (paused, reason), member
            shown = asterisk.cli("queue show zonghe")
            assert (f"paused:{reason}" in shown) == (paused == "1"), shown
            # The console shows what Asterisk says, once the bridge has seen the event.
            expected = {"paused": "paused", "off_duty": "off_duty", "on_duty": "available"}[state]
            wait_for(
                lambda e=expected: client.get("/api/console/me", headers=lawyer).json()["duty"] == e,  # type: ignore[misc]
                10,
                f"the console to show {expected}",
            )
        assert status()[("zonghe", "PJSIP/2002")]["Paused"] == "0"


PASSWORD = "correct-horse-12348"


def _headers(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # the bearer token only, as a script or another service would call
    return {"Authorization": f"Bearer {response.json()['token']}"}
