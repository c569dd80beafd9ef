"""Decoding what Asterisk writes, and a clear reason for every file that cannot be decoded."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile

from hotline.asr.audio import blocks, file_sha256, probe
from hotline.asr.errors import AudioError, Reason, RecordingMissing
from tests.asr_support import ASTERISK_SAMPLE, HELLO, TWO_LEGS


def _samples(path: Path) -> np.ndarray:
    return np.concatenate(list(blocks(probe(path))))


@pytest.mark.parametrize("codec", ["ulaw", "alaw", "gsm"])
def test_telephone_codecs_decode_to_the_same_speech_at_8khz(codec: str) -> None:
    info = probe(HELLO[codec])
    assert (info.rate, info.channels) == (8000, 1)
    assert info.description.split()[1] == {"ulaw": "ULAW", "alaw": "ALAW", "gsm": "GSM610"}[codec]
    reference, decoded = _samples(HELLO["pcm16"])[:, 0], _samples(HELLO[codec])[:, 0]
    assert decoded.dtype == np.int16
    n = min(len(reference), len(decoded))
    assert abs(len(decoded) - len(reference)) < 320  # GSM pads to whole 20 ms frames
    # Lossy codecs keep the waveform: strongly correlated with the PCM original.
    assert np.corrcoef(reference[:n].astype(float), decoded[:n].astype(float))[0, 1] > 0.9


def test_the_real_asterisk_recording_and_stereo_legs_decode() -> None:
    sample = probe(ASTERISK_SAMPLE)
    assert (sample.rate, sample.channels, sample.frames) == (8000, 1, 31840)
    stereo = probe(TWO_LEGS)
    assert stereo.channels == 2 and _samples(TWO_LEGS).shape == (stereo.frames, 2)


def test_headerless_asterisk_formats_are_read_by_extension(tmp_path: Path) -> None:
    pcm = _samples(HELLO["pcm16"])[:, 0]
    for suffix, subtype in ((".ulaw", "ULAW"), (".alaw", "ALAW"), (".sln", "PCM_16"), (".gsm", "GSM610")):
        path = tmp_path / f"voicemail{suffix}"
        soundfile.write(path, pcm, 8000, format="RAW", subtype=subtype)
        info = probe(path)
        assert (info.rate, info.description.split()[1]) == (8000, subtype)
        assert abs(len(_samples(path)) - len(pcm)) < 320


def _fail(path: Path) -> AudioError:
    with pytest.raises(AudioError) as caught:
        probe(path)
    assert str(path) in str(caught.value)
    assert not caught.value.transient
    return caught.value


def test_empty_files_fail_as_empty(tmp_path: Path) -> None:
    (tmp_path / "zero.wav").write_bytes(b"")
    assert _fail(tmp_path / "zero.wav").reason == Reason.EMPTY
    soundfile.write(tmp_path / "no-samples.wav", np.zeros(0, dtype=np.int16), 8000, subtype="PCM_16")
    assert _fail(tmp_path / "no-samples.wav").reason == Reason.EMPTY


@pytest.mark.parametrize("codec", ["pcm16", "gsm"])
def test_a_cut_off_recording_fails_as_truncated_not_half_transcribed(tmp_path: Path, codec: str) -> None:
    data = HELLO[codec].read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    error = _fail(cut)
    assert error.reason == Reason.TRUNCATED and "declares" in str(error)
    cut.write_bytes(data[:44])  # header only
    assert _fail(cut).reason == Reason.TRUNCATED


def test_garbage_and_unknown_codecs_fail_with_what_to_do(tmp_path: Path) -> None:
    noise = tmp_path / "noise.wav"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    assert _fail(noise).reason == Reason.CORRUPT
    text = tmp_path / "notes.txt"
    text.write_text("not audio", encoding="utf-8")
    assert _fail(text).reason == Reason.UNSUPPORTED

    fmt = struct.pack("<HHIIHH", 0x0133, 1, 8000, 1000, 20, 0)  # an unknown codec (format tag 0x0133)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 100) + bytes(100)
    odd = tmp_path / "g729.wav"
    odd.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    error = _fail(odd)
    assert error.reason == Reason.UNSUPPORTED and "0x0133" in str(error) and "sox" in str(error)

    unclosed = tmp_path / "unclosed.wav"  # Asterisk stopped before it wrote the sizes
    data = bytearray(HELLO["pcm16"].read_bytes())
    data[40:44] = struct.pack("<I", 0)
    unclosed.write_bytes(bytes(data))
    assert _fail(unclosed).reason == Reason.CORRUPT

    assert _fail(tmp_path).reason == Reason.UNSUPPORTED  # a folder


def test_a_missing_file_may_still_appear() -> None:
    with pytest.raises(RecordingMissing) as caught:
        probe("/nonexistent/1795449034.93.wav")
    assert caught.value.transient and caught.value.reason == Reason.MISSING
    with pytest.raises(RecordingMissing):
        file_sha256("/nonexistent/1795449034.93.wav")
