"""The shape of config/ivr.yaml (pydantic). Field-level mistakes are reported by pydantic with their
path; the checks across nodes and files (destinations, loops, prompts, queues) are in menu_checks."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from settings.files import check_hour_range

NodeType = Literal["play", "menu", "queue", "voicemail", "callback", "overflow", "hangup"]
AfterHours = Literal["overflow", "voicemail", "callback"]
#: Nodes that end the IVR: the call leaves for a queue, a message, a call-back, a transfer or a hang-up.
EXITS = frozenset({"queue", "voicemail", "callback", "overflow", "hangup"})
#: Keys a menu can offer. # is not one: GET DATA takes it as "end of input".
DTMF_KEYS = "0123456789*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Target(_Strict):
    """Where a key leads, optionally setting the caller's language or green-channel group on the way."""

    goto: str
    language: str | None = None
    green: str | None = None


class Node(_Strict):
    type: NodeType
    prompt: str | None = None
    #: play
    next: str | Target | None = None
    #: menu
    options: dict[str, str | Target] = Field(default_factory=dict)
    timeout_s: float = Field(5.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=9)
    repeat_key: str | None = None
    on_exhausted: str | Target | None = None
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None
    #: queue / voicemail / callback
    queue: str | None = None
    topic: str | None = None
    service_line: str | None = None
    priority: int = Field(0, ge=0, le=100)
    after_hours: AfterHours | None = None
    #: overflow (and queue: overrides service_hours.yaml's overflow_number)
    number: str | None = Field(None, pattern=r"^\+?\d{3,20}$")

    @field_validator("repeat_key")
    @classmethod
    def _repeat_key(cls, key: str | None) -> str | None:
        if key is not None and (len(key) != 1 or key not in DTMF_KEYS):
            raise ValueError(f"repeat key {key!r} is not one phone key (0-9 or *; # ends input)")
        return key

    @field_validator("options")
    @classmethod
    def _keys(cls, options: dict[str, str | Target]) -> dict[str, str | Target]:
        for key in options:
            if len(key) != 1 or key not in DTMF_KEYS:
                raise ValueError(f"option key {key!r} is not one phone key (0-9 or *; # ends input)")
        return options


class Language(_Strict):
    label: str = Field(min_length=1)


class Priorities(_Strict):
    green: int = Field(10, ge=0, le=100)
    repeat: int = Field(5, ge=0, le=100)


class Waiting(_Strict):
    announce: bool = True
    max_age_s: float = Field(60.0, gt=0, le=3600)


class CallbackSettings(_Strict):
    offer_after_wait_s: float = Field(180.0, ge=0)
    offer_when_no_lawyer: bool = True
    number_attempts: int = Field(2, ge=1, le=5)


class VoicemailSettings(_Strict):
    dir: str = Field(min_length=1)
    format: Literal["wav", "gsm", "ulaw", "alaw", "sln"] = "wav"
    max_seconds: int = Field(120, ge=5, le=900)
    silence_seconds: int = Field(5, ge=1, le=60)
    min_seconds: float = Field(2.0, ge=0, le=60)


class SurveySettings(_Strict):
    timeout_s: float = Field(6.0, gt=0, le=60)
    retries: int = Field(1, ge=0, le=5)


class Nuisance(_Strict):
    max_calls: int = Field(30, ge=1)
    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    block_minutes: int = Field(120, ge=1, le=30 * 24 * 60)


class Blocking(_Strict):
    numbers: list[str] = Field(default_factory=list)
    prefixes: list[str] = Field(default_factory=list)
    nuisance: Nuisance | None = None

    @field_validator("numbers", "prefixes")
    @classmethod
    def _digits(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.isdigit():
                raise ValueError(f"{value!r} is not a number (digits only)")
        return values


class PartialClosure(_Strict):
    date: date
    #: HH:MM-HH:MM; absent means the whole day.
    hours: str | None = None
    #: Empty: every queue.
    queues: list[str] = Field(default_factory=list)
    reason: str = Field(min_length=1)
    prompt: str | None = None

    @field_validator("hours")
    @classmethod
    def _range(cls, hours: str | None) -> str | None:
        if hours is not None:
            check_hour_range(hours)
        return hours


class Sounds(_Strict):
    dir: str = "var/sounds"
    #: The same directory as Asterisk sees it (another host or container); None: same as `dir`.
    asterisk_dir: str | None = None


class IvrFile(_Strict):
    start: str
    default_language: str = "zh"
    languages: dict[str, Language] = Field(min_length=1)
    nodes: dict[str, Node] = Field(min_length=1)
    priorities: Priorities = Field(default_factory=Priorities)
    green_groups: list[str] = Field(default_factory=list)
    waiting: Waiting = Field(default_factory=Waiting)
    callback: CallbackSettings = Field(default_factory=CallbackSettings)
    voicemail: VoicemailSettings
    survey: SurveySettings = Field(default_factory=SurveySettings)
    blocking: Blocking = Field(default_factory=Blocking)
    closures: list[PartialClosure] = Field(default_factory=list)
    sounds: Sounds = Field(default_factory=Sounds)
    #: name -> text in the default language, or {language: text}.
    prompts: dict[str, str | dict[str, str]] = Field(default_factory=dict)

    def prompt_text(self, name: str, language: str | None = None) -> str | None:
        entry = self.prompts.get(name)
        if entry is None:
            return None
        if isinstance(entry, str):
            return entry if language in (None, self.default_language) else None
        return entry.get(language or self.default_language)


def as_target(value: str | Target) -> Target:
    return Target(goto=value) if isinstance(value, str) else value
