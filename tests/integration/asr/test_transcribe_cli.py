"""`hotline transcribe` as an operator back-filling recordings meets it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select

from hotline.asr.model import LoadedModel
from hotline.bootstrap import Context
from storage.tables import Call, Transcript
from tests.asr_support import HELLO, once_per_ci_run
from tests.integration.test_cli import hotline, isolated_env  # noqa: F401  (fixture)


@once_per_ci_run  # the command runs on its own SQLite file and embedded Redis on both passes
def test_json_lines_per_file_with_errors_and_a_real_time_factor_summary(
    isolated_env: dict[str, str],  # noqa: F811
    korean_model: LoadedModel,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "monitor"
    folder.mkdir()
    shutil.copy(HELLO["gsm"], folder / "1795449034.93.WAV")
    (folder / "broken.wav").write_bytes(b"garbage" * 10)
    (folder / "notes.txt").write_text("not a recording", encoding="utf-8")
    missing = tmp_path / "gone.wav"
    result = hotline(
        "transcribe",
        "--json",
        str(folder),
        str(missing),
        env={**isolated_env, "HOTLINE_ASR_MODEL": str(korean_model.path)},
    )
    assert result.returncode == 1, result.stderr  # some files failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(line["path"]).name: line for line in lines}
    assert sorted(by_name) == ["1795449034.93.WAV", "broken.wav", "gone.wav"]  # not the .txt
    good = by_name["1795449034.93.WAV"]
    assert good["error"] is None and good["text"] and good["duration_s"] == 2.4 and good["rtf"] > 0
    assert {"word", "start", "end", "conf"} <= set(good["words"][0])
    assert [s["speaker"] for s in good["segments"]] == [None]  # a mono mix: no speaker
    assert by_name["broken.wav"]["error"]["code"] == "corrupt"
    assert by_name["gone.wav"]["error"]["code"] == "missing"
    assert "3 file(s): 1 transcribed, 2 failed" in result.stderr and "real-time factor" in result.stderr


def test_without_a_model_it_says_how_to_get_one(isolated_env: dict[str, str]) -> None:  # noqa: F811
    result = hotline("transcribe", str(HELLO["pcm16"]), env=isolated_env)
    assert result.returncode == 2
    assert "HOTLINE_ASR_MODEL" in result.stderr and "scripts/fetch_asr_model" in result.stderr
    assert "Traceback" not in result.stderr


def test_store_back_fills_transcripts_onto_their_calls(asr_context: Context, korean_model: LoadedModel) -> None:
    from hotline.cli.asr import run

    path = str(HELLO["alaw"])
    with asr_context.sessions.begin() as session:
        session.add(Call(linkedid="1795449034.93", recording_paths=[path]))
    settings = asr_context.settings
    for _ in range(2):  # the second run finds it done: nothing doubles
        assert run(settings, [HELLO["alaw"]], as_json=True, store=True, force=False, context=asr_context) == 0
    with asr_context.sessions() as session:
        [row] = session.scalars(select(Transcript)).all()
        assert row.linkedid == "1795449034.93" and row.status == "done" and row.attempts == 1
        assert session.scalar(select(Call.transcript)) == row.text


def test_health_says_whether_transcription_is_available(no_model_context: Context, korean_model: LoadedModel) -> None:
    import dataclasses

    from fastapi.testclient import TestClient

    from hotline.app import create_app

    context = no_model_context
    with TestClient(create_app(context)) as client:
        body = client.get("/api/health").json()
    # No worker, bridge or IVR runs in this test (degraded); without a model the API itself is up.
    assert body["status"] == "degraded" and body["components"]["database"]["status"] == "ok"
    assert body["asr"]["available"] is False
    assert "HOTLINE_ASR_MODEL" in body["asr"]["hint"]
    for model, expected in ((korean_model.path, "available"), (korean_model.path / "am", "misconfigured")):
        configured = dataclasses.replace(context, settings=context.settings.model_copy(update={"asr_model": model}))
        with TestClient(create_app(configured)) as client:
            asr = client.get("/api/health").json()["asr"]
        assert asr["status"] == expected
    assert "not a Vosk model folder" in asr["error"]
