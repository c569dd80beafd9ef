"""The Vosk model: chosen by HOTLINE_ASR_MODEL, loaded once per process and shared by all recognisers.

Loading takes seconds (and about 1 GB of memory for vosk-model-cn-0.22), so a worker loads it
before it forks for jobs (`hotline worker`), and the forked job processes share those pages.
Without a model the service still runs: transcription is reported unavailable with the way to
enable it, and jobs fail at once with that reason instead of retrying.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.asr.errors import ModelUnavailable, Reason
from settings.env import Settings

logger = logging.getLogger(__name__)

HOW_TO_ENABLE = (
    "set HOTLINE_ASR_MODEL to an unpacked Vosk model folder: `scripts/fetch_asr_model small-cn` downloads "
    "and checks vosk-model-small-cn-0.22 into asr_models/ (see asr_models/README.md)"
)
#: Files every Vosk model folder has; their absence means a wrong or half-unpacked folder.
REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")

_lock = threading.Lock()
_loaded: dict[Path, LoadedModel] = {}


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    name: str
    load_seconds: float
    #: the vosk.Model; typed loosely because vosk ships no type information
    vosk: Any = field(repr=False)


def model_name(path: Path) -> str:
    """The folder's name, or its parent's when the folder is just called `model` (as in wheels)."""
    return path.parent.name if path.name == "model" and path.parent.name else path.name


def model_problem(path: Path) -> str | None:
    """What is wrong with a model folder, without loading it (cheap enough for a health check)."""
    if not path.exists():
        return f"HOTLINE_ASR_MODEL={path}: no such folder"
    if not path.is_dir():
        return f"HOTLINE_ASR_MODEL={path} is a file: point it at the unpacked model folder, not the zip"
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        return (
            f"HOTLINE_ASR_MODEL={path} is not a Vosk model folder (missing {', '.join(missing)}); "
            "unpack the whole model zip and point at the folder that holds am/, conf/ and graph/"
        )
    return None


def load_model(path: str | Path) -> LoadedModel:
    """Load the model in `path` once per process; later calls return the same object."""
    path = Path(path).resolve()
    with _lock:
        if path in _loaded:
            return _loaded[path]
        problem = model_problem(path)
        if problem:
            raise ModelUnavailable(problem, Reason.MODEL_ERROR)
        import vosk

        vosk.SetLogLevel(-1)  # Kaldi's per-load chatter goes to stderr otherwise
        started = time.perf_counter()
        try:
            model = vosk.Model(str(path))  # always a path: Model(lang=...) would try to download
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise ModelUnavailable(
                f"the Vosk model in {path} could not be loaded ({exc}): the folder may be incomplete or "
                "damaged; fetch it again (see asr_models/README.md)",
                Reason.MODEL_ERROR,
            ) from None
        loaded = LoadedModel(path, model_name(path), time.perf_counter() - started, model)
        _loaded[path] = loaded
    logger.info("ASR model %s loaded from %s in %.1f s", loaded.name, path, loaded.load_seconds)
    return loaded


def configured_model(settings: Settings) -> LoadedModel:
    if settings.asr_model is None:
        raise ModelUnavailable(f"transcription is unavailable: no ASR model is configured; {HOW_TO_ENABLE}")
    return load_model(settings.asr_model)


def asr_status(settings: Settings) -> dict[str, Any]:
    """For /api/health and start-up banners: is transcription available, and if not, how to enable it."""
    if settings.asr_model is None:
        return {"available": False, "status": "unavailable", "hint": HOW_TO_ENABLE}
    path = Path(settings.asr_model)
    problem = model_problem(path)
    if problem:
        return {"available": False, "status": "misconfigured", "model": model_name(path), "error": problem}
    return {"available": True, "status": "available", "model": model_name(path)}


def preload(settings: Settings) -> LoadedModel | None:
    """Load the configured model now (a worker, before forking for jobs); log why not otherwise."""
    try:
        return configured_model(settings)
    except ModelUnavailable as exc:
        logger.warning("%s", exc)
        return None
