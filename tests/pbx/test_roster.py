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

from hotline.demo import demo_roster_queues
from tests.pbx.asterisk import REPO
from tests.pbx.harness import HotlinePbx, wait_for


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
