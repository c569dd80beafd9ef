"""scripts/fetch_asr_model checks the archive's SHA-256 before it unpacks anything (tested offline)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "fetch_asr_model"
NAME = "vosk-model-small-cn-0.22"


def _fetch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def _archive(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, str]:
    archive = tmp_path / f"{NAME}.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return archive, hashlib.sha256(archive.read_bytes()).hexdigest()


def test_a_verified_archive_is_unpacked_and_the_setting_printed(tmp_path: Path) -> None:
    archive, sha = _archive(tmp_path, {f"{NAME}/am/final.mdl": b"am", f"{NAME}/conf/model.conf": b"--beam=10"})
    dest = tmp_path / "asr_models"
    result = _fetch("small-cn", "--from-file", str(archive), "--sha256", sha, "--dest", str(dest))
    assert result.returncode == 0, result.stderr
    assert (dest / NAME / "conf" / "model.conf").read_bytes() == b"--beam=10"
    assert result.stdout.strip() == f"HOTLINE_ASR_MODEL={dest / NAME}"


def test_a_wrong_hash_unpacks_nothing(tmp_path: Path) -> None:
    archive, _ = _archive(tmp_path, {f"{NAME}/am/final.mdl": b"am", f"{NAME}/conf/model.conf": b""})
    dest = tmp_path / "asr_models"
    # Without --sha256 the pinned hash of the real vosk-model-small-cn-0.22.zip applies: this is not it.
    result = _fetch("small-cn", "--from-file", str(archive), "--dest", str(dest))
    assert result.returncode == 1 and "SHA-256" in result.stderr and "not unpacked" in result.stderr
    assert not (dest / NAME).exists()


def test_an_archive_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    archive, sha = _archive(tmp_path, {f"{NAME}/README": b"hello"})
    result = _fetch("small-cn", "--from-file", str(archive), "--sha256", sha, "--dest", str(tmp_path / "m"))
    assert result.returncode != 0 and "not a Vosk model" in result.stderr
    assert not (tmp_path / "m" / NAME).exists()


def test_the_large_model_needs_a_hash_given(tmp_path: Path) -> None:
    result = _fetch("cn", "--dest", str(tmp_path))
    assert result.returncode == 2 and "--sha256" in result.stderr
