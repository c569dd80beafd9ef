"""Prompts: named sound files with their text. Which names the engine itself needs, where a prompt's
file is for a language, how numbers are spoken from digit prompts, and which files are missing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr.menu_config import IvrFile

#: Prompts the call flow plays by name, whatever the menus say.
SYSTEM_PROMPTS = (
    "invalid",
    "timeout",
    "goodbye",
    "blocked",
    "closed-hours",
    "closed-holiday",
    "closed-closure",
    "connecting",
    "priority",
    "position-before",
    "position-after",
    "wait-before",
    "wait-after",
    "wait-long",
    "no-lawyer",
    "callback-offer",
    "callback-offer-closed",
    "callback-confirm-before",
    "callback-confirm-after",
    "callback-enter",
    "callback-invalid",
    "callback-done",
    "callback-duplicate",
    "voicemail-intro",
    "voicemail-thanks",
    "overflow",
    "survey-ask",
    "survey-thanks",
    "survey-invalid",
    "many",
    "ten",
    "number-1",
    "number-2",
    *(f"digit-{d}" for d in range(10)),
)
SOUND_SUFFIX = ".wav"


def referenced_prompts(config: IvrFile) -> Iterator[tuple[str, str]]:
    """(path in the file, prompt name) for every prompt the configuration can play."""
    for name in SYSTEM_PROMPTS:
        yield "-", name
    for node_name, node in config.nodes.items():
        for field in ("prompt", "invalid_prompt", "timeout_prompt"):
            value = getattr(node, field)
            if value:
                yield f"nodes.{node_name}.{field}", value
    for i, closure in enumerate(config.closures):
        if closure.prompt:
            yield f"closures[{i}].prompt", closure.prompt


def spoken_digits(number: str) -> list[str]:
    """A phone number read digit by digit (1 as 幺, as numbers are read on the phone)."""
    return [f"digit-{d}" for d in number if d.isdigit()]


def spoken_count(n: int) -> list[str]:
    """A count of people or minutes, 0–99, as Chinese numerals from digit prompts; more is "many"."""
    if n < 0 or n > 99:
        return ["many"]
    if n == 1:
        return ["number-1"]
    if n == 2:
        return ["number-2"]
    if n < 10:
        return [f"digit-{n}"]
    tens, units = divmod(n, 10)
    words = ["ten"] if tens == 1 else [f"digit-{tens}", "ten"]
    if units:
        words.append("number-1" if units == 1 else f"digit-{units}")
    return words


@dataclass(frozen=True)
class PromptFiles:
    """Where prompt files are: `dir` for this process, `asterisk_dir` as Asterisk opens them."""

    dir: Path
    asterisk_dir: str
    default_language: str

    @classmethod
    def from_config(cls, config: IvrFile, base: Path | None = None) -> PromptFiles:
        directory = Path(config.sounds.dir)
        if not directory.is_absolute():
            directory = (base or Path.cwd()) / directory
        directory = directory.resolve()
        return cls(directory, config.sounds.asterisk_dir or str(directory), config.default_language)

    def file(self, name: str, language: str) -> Path:
        return self.dir / language / f"{name}{SOUND_SUFFIX}"

    def sound(self, name: str, language: str | None) -> str:
        """What STREAM FILE / GET DATA are given: Asterisk's path without the extension. A language
        without its own recording of a prompt falls back to the default language's."""
        language = language or self.default_language
        if language != self.default_language and not self.file(name, language).exists():
            language = self.default_language
        return f"{self.asterisk_dir.rstrip('/')}/{language}/{name}"


def missing_prompt_files(config: IvrFile, files: PromptFiles) -> list[tuple[str, str, Path]]:
    """(prompt, language, expected file) for each prompt with text but no sound file."""
    missing = []
    for name in sorted({name for _, name in referenced_prompts(config)}):
        for language in config.languages:
            if config.prompt_text(name, language) is None:
                continue
            path = files.file(name, language)
            if not path.exists():
                missing.append((name, language, path))
    return missing
