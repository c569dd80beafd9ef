"""Decoding recordings as Asterisk writes them, with libsndfile (the `soundfile` wheel).

MixMonitor writes WAV in 16-bit PCM, μ-law, A-law or GSM 6.10 (`.WAV`, "wav49"), or headerless
files named by format (`.ulaw`, `.alaw`, `.gsm`, `.sln`). Python's `wave` reads only PCM, hence
libsndfile. libsndfile quietly reads what is there of a cut-off WAV, so the RIFF header is checked
first: a file shorter than its header says fails as truncated instead of giving half a transcript.
Samples come out as 16-bit integers at the file's own rate (Vosk resamples 8 kHz itself).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.asr.errors import AudioError, Reason, RecordingMissing

#: WAV codecs (the fmt chunk's format tag) libsndfile decodes.
WAV_CODECS = {
    0x0001: "PCM",
    0x0002: "MS ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "μ-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0xFFFE: "extensible",
}
#: Headerless formats Asterisk writes, by file extension: (libsndfile subtype, sample rate).
RAW_FORMATS = {
    ".ulaw": ("ULAW", 8000),
    ".ul": ("ULAW", 8000),
    ".alaw": ("ALAW", 8000),
    ".al": ("ALAW", 8000),
    ".gsm": ("GSM610", 8000),
    ".sln": ("PCM_16", 8000),
    ".raw": ("PCM_16", 8000),
    ".sln16": ("PCM_16", 16000),
}
#: Frames per block handed to the recogniser (0.5 s at 8 kHz, as Vosk's own examples read).
BLOCK_FRAMES = 4000
HOW_TO_CONVERT = "convert it with e.g. `sox IN -r 8000 -e signed-integer -b 16 OUT.wav`"


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    rate: int
    channels: int
    frames: int
    #: e.g. "WAV ULAW 8000 Hz x1"
    description: str
    #: Keyword arguments that open a headerless file (format, subtype, rate, channels).
    raw: dict[str, Any] | None = None

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def probe(path: str | Path) -> AudioInfo:
    """Check that `path` is a complete recording we can decode, or raise a clear AudioError."""
    import soundfile

    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RecordingMissing(f"recording not found: {path}") from None
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not a recording", Reason.UNSUPPORTED)
    if size == 0:
        raise AudioError(f"{path} is empty (0 bytes): the recording holds no audio", Reason.EMPTY)
    raw = _raw_format(path)
    if raw is None:
        _check_riff_header(path, size)
    try:
        with soundfile.SoundFile(str(path), **(raw or {})) as audio:
            info = AudioInfo(
                path=path,
                rate=int(audio.samplerate),
                channels=int(audio.channels),
                frames=int(audio.frames),
                description=f"{audio.format} {audio.subtype} {audio.samplerate} Hz x{audio.channels}",
                raw=raw,
            )
    except soundfile.LibsndfileError as exc:
        raise _unreadable(path, exc) from None
    if info.frames <= 0:
        raise AudioError(f"{path} holds no audio (0 samples)", Reason.EMPTY)
    return info


def blocks(info: AudioInfo, frames: int = BLOCK_FRAMES) -> Iterator[Any]:
    """Yield int16 arrays of shape (frames, channels) until the end of the file."""
    import soundfile

    decoded = 0
    try:
        with soundfile.SoundFile(str(info.path), **(info.raw or {})) as audio:
            while True:
                block = audio.read(frames, dtype="int16", always_2d=True)
                if not len(block):
                    return
                decoded += len(block)
                yield block
    except soundfile.LibsndfileError as exc:
        raise AudioError(
            f"{info.path}: decoding failed after {decoded / info.rate:.1f} s of {info.duration_s:.1f} s: {exc}",
            Reason.CORRUPT,
        ) from None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise RecordingMissing(f"recording not found: {path}") from None
    return digest.hexdigest()


def _raw_format(path: Path) -> dict[str, Any] | None:
    known = RAW_FORMATS.get(path.suffix.lower())
    if known is None:
        return None
    subtype, rate = known
    return {"format": "RAW", "subtype": subtype, "samplerate": rate, "channels": 1}


def _check_riff_header(path: Path, size: int) -> None:
    """Refuse a WAV whose codec libsndfile cannot decode or whose audio is shorter than declared."""
    with path.open("rb") as handle:
        head = handle.read(12)
        if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            if path.suffix.lower() == ".wav":
                raise AudioError(f"{path} is named .wav but is not a WAV file (it starts {head[:4]!r})", Reason.CORRUPT)
            return  # another container (AIFF, FLAC, ...): libsndfile decides
        if head[:4] == b"RF64":
            return  # 64-bit sizes live in the ds64 chunk; libsndfile checks those
        offset, codec = 12, None
        while offset + 8 <= size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"fmt ":
                fmt = handle.read(min(chunk_size, 2))
                codec = struct.unpack("<H", fmt)[0] if len(fmt) == 2 else None
            elif chunk_id == b"data":
                _check_data_chunk(path, codec, chunk_size, size - offset - 8)
                return
            offset += 8 + chunk_size + (chunk_size & 1)
    if codec is None:
        raise AudioError(f"{path}: WAV header has no format chunk: the file is damaged", Reason.CORRUPT)
    raise AudioError(f"{path}: WAV file has no audio data chunk: the file is damaged or cut off", Reason.TRUNCATED)


def _check_data_chunk(path: Path, codec: int | None, declared: int, available: int) -> None:
    if codec is None:
        raise AudioError(f"{path}: audio data comes before the WAV format chunk: the file is damaged", Reason.CORRUPT)
    if codec not in WAV_CODECS:
        supported = ", ".join(sorted(set(WAV_CODECS.values()) - {"extensible"}))
        raise AudioError(
            f"{path}: WAV codec 0x{codec:04X} is not supported (supported: {supported}); {HOW_TO_CONVERT}",
            Reason.UNSUPPORTED,
        )
    if declared == 0 and available > 0:
        raise AudioError(
            f"{path}: the WAV header declares no audio but {available} bytes follow: "
            "the recording was not closed properly (did Asterisk stop mid-call?)",
            Reason.CORRUPT,
        )
    if declared != 0xFFFFFFFF and declared > available:
        raise AudioError(
            f"{path} is truncated: the header declares {declared} bytes of audio but the file holds {available}",
            Reason.TRUNCATED,
        )


def _unreadable(path: Path, exc: Exception) -> AudioError:
    if path.suffix.lower() == ".wav" or _starts_with_riff(path):
        return AudioError(f"{path} cannot be decoded ({exc}): the WAV file is damaged", Reason.CORRUPT)
    return AudioError(
        f"{path} is not an audio format we can decode ({exc}); use WAV (PCM, μ-law, A-law, GSM 6.10) "
        f"or headerless .ulaw/.alaw/.gsm/.sln, or {HOW_TO_CONVERT}",
        Reason.UNSUPPORTED,
    )


def _starts_with_riff(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) in (b"RIFF", b"RF64")
