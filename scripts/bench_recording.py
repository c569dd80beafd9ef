"""Time the recording endpoint's decoding (hotline.recordings.playable_wav): Asterisk's μ-law and GSM
WAV files of 10 and 60 minutes decoded to PCM WAV, best of 5 with the decoded cache emptied each
time (a first play), and once more from the cache (a seek: another Range request).

    .venv/bin/python scripts/bench_recording.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from hotline import recordings
from hotline.recordings import playable_wav

RATE = 8000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for minutes in (10, 60):
            t = np.arange(RATE * 60 * minutes) / RATE
            audio = (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32")
            for subtype in ("ULAW", "GSM610"):
                path = Path(folder) / f"{minutes}-{subtype}.wav"
                soundfile.write(path, audio, RATE, format="WAV", subtype=subtype)
                times = []
                for _ in range(5):
                    recordings._decoded.clear()
                    started = time.perf_counter()
                    out = playable_wav(path)
                    times.append(time.perf_counter() - started)
                started = time.perf_counter()
                playable_wav(path)
                cached = time.perf_counter() - started
                size = f"file {path.stat().st_size / 1e6:5.1f} MB -> PCM {len(out) / 1e6:5.1f} MB"
                first = f"best {min(times) * 1000:6.0f} ms, median {statistics.median(times) * 1000:6.0f} ms"
                print(f"{minutes:>3} min {subtype:<7} {size}: first play {first}; seek {cached * 1000:.2f} ms")


if __name__ == "__main__":
    main()
