"""Why a recording could not be transcribed. Each error has a stable code stored on the transcript."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    NO_MODEL = "no_model"
    MODEL_ERROR = "model_error"
    MISSING = "missing"
    EMPTY = "empty"
    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    UNSUPPORTED = "unsupported"
    TIMEOUT = "timeout"
    TRANSIENT = "transient"
    INTERNAL = "internal"


class AsrError(Exception):
    """A transcription that cannot succeed as things stand; `transient` ones may succeed if tried again."""

    reason: Reason = Reason.INTERNAL
    transient: bool = False

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ModelUnavailable(AsrError):
    """No model is configured, or the configured one cannot be loaded."""

    reason = Reason.NO_MODEL


class AudioError(AsrError):
    """The file is empty, corrupt, truncated or in a format we cannot decode: trying again will not help."""


class RecordingMissing(AsrError):
    """The file is not there (yet): a recording on shared storage may appear a little later."""

    reason = Reason.MISSING
    transient = True
