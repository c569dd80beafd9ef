"""The shipped deployment files are valid: systemd units (`systemd-analyze verify`), the nginx site
(`nginx -t`), the command lines the units run, the env files' settings, and the backup scripts
(a real pg_dump and restore test when the suite runs on PostgreSQL).

The units name the install prefix /opt/hotline; the test points that prefix at this checkout (the
only change made to the files), since systemd checks that each ExecStart exists."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from settings.env import Settings, load_settings
from settings.errors import ConfigError
from storage.migrate import current_revision

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
PREFIX = "/opt/hotline"
#: An instance name for each template unit, as the README's operating section enables them.
INSTANCES = {
    "hotline-api@.service": "8001",
    "hotline-bridge@.service": "pbx-a",
    "hotline-ivr@.service": "pbx-a",
    "hotline-worker-default@.service": "1",
    "hotline-worker-asr@.service": "1",
}


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        # scripts/test installs both from Debian; without them the files cannot be checked here.
        pytest.skip(
            f"SKIPPED LOUDLY: {name} is not installed (apt-get install {'nginx' if name == 'nginx' else 'systemd'})"
        )
    return found


def _units() -> list[Path]:
    return sorted(p for p in (DEPLOY / "systemd").iterdir() if p.suffix in {".service", ".timer", ".target"})


def _staged_units(tmp_path: Path) -> list[Path]:
    """The units with their prefix on this checkout; templates instantiated."""
    prefix = tmp_path / "prefix"
    (prefix / ".venv" / "bin").mkdir(parents=True)
    (prefix / ".venv" / "bin" / "hotline").symlink_to(REPO / ".venv" / "bin" / "hotline")
    (prefix / "deploy").symlink_to(DEPLOY)
    units = tmp_path / "units"
    units.mkdir()
    staged = []
    for unit in _units():
        (units / unit.name).write_text(unit.read_text().replace(PREFIX, str(prefix)))
        instance = INSTANCES.get(unit.name)
        assert instance is not None or "@" not in unit.name, f"no instance for the template {unit.name}"
        staged.append(units / (unit.name.replace("@.", f"@{instance}.") if instance else unit.name))
    return staged


def test_systemd_units_verify(tmp_path: Path) -> None:
    tool = _tool("systemd-analyze")
    staged = _staged_units(tmp_path)
    assert {p.name.split("@")[0].removesuffix(".service") for p in staged} >= {
        "hotline-api", "hotline-bridge", "hotline-ivr", "hotline-worker-default", "hotline-worker-asr",
        "hotline-scheduler", "hotline-relay", "hotline-backup", "hotline-restore-test",
    }  # fmt: skip
    result = subprocess.run(
        [tool, "verify", "--man=no", *map(str, staged)], capture_output=True, text=True, cwd=tmp_path / "units"
    )
    # Unknown keys, bad values and missing executables are warnings on stderr: none is accepted.
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def _exec_starts() -> list[tuple[str, list[str]]]:
    found = []
    for unit in _units():
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                found.append((unit.name, shlex.split(line.removeprefix("ExecStart="))))
    return found


def test_every_unit_runs_a_command_the_cli_has() -> None:
    starts = _exec_starts()
    hotline_starts = [(u, argv) for u, argv in starts if argv[0] == f"{PREFIX}/.venv/bin/hotline"]
    assert len(hotline_starts) == 7  # api, bridge, ivr, two worker kinds, scheduler, relay
    for unit, argv in hotline_starts:
        args = [a.replace("%i", "8001") for a in argv[1:]]
        # --help after the unit's own arguments: click refuses an unknown command or option first.
        result = subprocess.run([str(REPO / ".venv/bin/hotline"), *args, "--help"], capture_output=True, text=True)
        assert result.returncode == 0, f"{unit}: hotline {' '.join(args)}: {result.stderr}"
    for unit, argv in starts:
        if argv[0].startswith(f"{PREFIX}/deploy/"):
            script = DEPLOY / argv[0].removeprefix(f"{PREFIX}/deploy/")
            assert os.access(script, os.X_OK), f"{unit}: {script} is not executable"
            subprocess.run(["bash", "-n", str(script)], check=True)


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key), f"{path.name}:{number}: not KEY=value"
            values[key] = value
    return values


def test_env_files_name_real_settings_and_production_refuses_their_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}
    common = _env_file(DEPLOY / "env" / "hotline.env")
    node = _env_file(DEPLOY / "env" / "node-pbx-a.env")
    for name, values in (("hotline.env", common), ("node-pbx-a.env", node)):
        unknown = set(values) - fields
        assert not unknown, f"{name} sets what no setting reads: {unknown}"
    for key in list(os.environ):
        if key.startswith("HOTLINE_"):
            monkeypatch.delenv(key)
    for key, value in {**common, **node}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    named = {problem[0] for problem in refused.value.problems}
    assert named == {"HOTLINE_SECRET_KEY", "HOTLINE_AMI_SECRET", "HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL"}
    # With real secrets the same files load: every other value is well-formed.
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("HOTLINE_AMI_SECRET", "s3cret-from-the-vault")
    for key in ("HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL"):
        monkeypatch.setenv(key, common[key].replace("change-me", "s3cret-from-the-vault"))
    settings = load_settings()
    assert settings.env == "production" and settings.node == "pbx-a" and settings.log_format == "json"
    assert settings.redis_url and settings.redis_url.startswith("redis+sentinel://")


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    tool = _tool("nginx")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hotline.example.org",
         "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "hotline.conf").read_text()
    site = site.replace("/etc/hotline/tls/", f"{tmp_path}/").replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "hotline.conf").write_text(site)
    mime = Path("/etc/nginx/mime.types")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n"
        + (f"    include {mime};\n" if mime.exists() else "")
        + f"    client_body_temp_path {tmp_path}/body;\n    proxy_temp_path {tmp_path}/proxy;\n"
        f"    include {tmp_path}/hotline.conf;\n}}\n"
    )
    result = subprocess.run([tool, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr
    feed = site[site.index("location = /api/feed") :].split("}", 1)[0]
    assert "proxy_buffering off" in feed and "proxy_read_timeout 1h" in feed
    for node in ("pbx-a", "pbx-b"):
        ws = site[site.index(f"location = /ws/{node}") :].split("}", 1)[0]
        assert "$http_upgrade" in ws and "$connection_upgrade" in ws


def test_backup_and_restore_test_scripts_on_postgresql(tmp_path: Path, engine: Engine) -> None:
    url = os.environ.get("HOTLINE_DATABASE_URL", "")  # the engine fixture has migrated it
    if not url.startswith("postgresql"):
        pytest.skip("the backup scripts run against PostgreSQL (scripts/test --services)")
    for tool in ("pg_dump", "pg_restore", "psql", "rsync"):
        _tool(tool)
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "call-1.wav").write_bytes(b"RIFF....WAVE")
    env = {**os.environ, "BACKUP_DATABASE_URL": url, "BACKUP_DIR": str(tmp_path / "backups"),
           "RECORDINGS_DIR": str(recordings), "RESTORE_TEST_SERVER_URL": server, "BACKUP_OFFSITE": ""}  # fmt: skip
    backup = subprocess.run([str(DEPLOY / "bin/hotline-backup")], env=env, capture_output=True, text=True)
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "backups/recordings/call-1.wav").read_bytes() == b"RIFF....WAVE"
    restore = subprocess.run([str(DEPLOY / "bin/hotline-restore-test")], env=env, capture_output=True, text=True)
    assert restore.returncode == 0, restore.stderr
    # The restored copy is at the revision the backed-up database was migrated to (the chain's head).
    assert f"schema revision {current_revision(engine)}" in restore.stdout and "calls:" in restore.stdout


def test_alert_rules_use_metrics_the_service_exports() -> None:
    import yaml

    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    exported = set(re.findall(r'"(hotline_[a-z_]+)"', (REPO / "hotline/api/routes/metrics.py").read_text()))
    assert len(exported) >= 15
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
            used = {re.sub(r"_(bucket|sum|count)$", "", name) for name in re.findall(r"hotline_[a-z_]+", rule["expr"])}
            assert used and used <= exported, f"{rule['alert']}: {used - exported}"
