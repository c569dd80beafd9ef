"""Call recordings as a browser plays them. A recording is read only from inside the recordings
folder (HOTLINE_RECORDINGS_DIR, links and `..` resolved) and is never named to the user by its path.

Asterisk writes what its MixMonitor is told to: 16-bit PCM WAV, μ-law or A-law WAV, WAV49 (GSM in
WAV) or raw `.gsm`. Browsers play only PCM WAV among these, and Python's `wave` reads none of the
others, so anything that is not 16-bit PCM WAV is decoded with libsndfile (soundfile) and written
again as 16-bit PCM WAV, in memory.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import soundfile

logger = logging.getLogger(__name__)

#: What every recording is served as.
MEDIA_TYPE = "audio/wav"
#: Raw GSM 06.10 files carry no header: Asterisk writes them at 8 kHz, mono.
_RAW = {".gsm": {"format": "RAW", "subtype": "GSM610", "samplerate": 8000, "channels": 1}}
#: Decoded recordings kept in memory, newest last: a player seeks with several Range requests, and
#: GSM decodes slowly (scripts/bench_recording.py). Keyed by path, size and mtime, so a replaced file
#: is decoded again; never written to disk, so retention's deletion leaves no copy behind.
CACHE_BYTES = 192 * 1024 * 1024
_decoded: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
_lock = threading.Lock()


class RecordingUnreadable(Exception):
    """The file is there but is no audio libsndfile can read."""


def inside_recordings(path: str, recordings_dir: Path) -> Path | None:
    """`path` when, once resolved, it lies inside `recordings_dir`; None for anything else (relative
    paths, `..`, links out of the folder). Both playback and retention ask this one question."""
    target = Path(path)
    try:
        if target.is_absolute() and target.resolve().is_relative_to(recordings_dir.resolve()):
            return target
    except (OSError, RuntimeError):
        pass
    return None


def playable_wav(path: Path) -> bytes:
    """The recording as 16-bit PCM WAV bytes (the file itself when it already is). Raises
    FileNotFoundError when it is gone and RecordingUnreadable when it is not audio."""
    stat = path.stat()  # FileNotFoundError when it is gone
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key in _decoded:
            _decoded.move_to_end(key)
            return _decoded[key]
    audio, decoded = _read(path)
    if decoded and len(audio) <= CACHE_BYTES // 2:
        with _lock:
            _decoded[key] = audio
            while sum(len(v) for v in _decoded.values()) > CACHE_BYTES:
                _decoded.popitem(last=False)
    return audio


def _read(path: Path) -> tuple[bytes, bool]:
    """The file as PCM WAV, and whether it had to be decoded."""
    raw = _RAW.get(path.suffix.lower(), {})
    try:
        if not raw:
            info = soundfile.info(str(path))
            if info.format == "WAV" and info.subtype == "PCM_16":
                return path.read_bytes(), False
        data, rate = soundfile.read(str(path), dtype="int16", always_2d=True, **raw)  # type: ignore[arg-type]
    except FileNotFoundError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
        if not path.exists():
            raise FileNotFoundError(path.name) from None
        raise RecordingUnreadable(f"{path.name}: {exc}") from None
    out = io.BytesIO()
    soundfile.write(out, data, rate, format="WAV", subtype="PCM_16")
    logger.debug("recording %s decoded to PCM WAV (%d frames at %d Hz)", path.name, len(data), rate)
    return out.getvalue(), True
