"""Placeholder prompt audio from the prompts' text: espeak-ng speaks it, sox makes it what Asterisk
plays without transcoding (WAV, 8 kHz, mono, 16-bit). Replace the files with studio recordings
whenever they exist; the check then finds nothing missing."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ivr.menu_config import IvrFile
from ivr.prompts import PromptFiles, missing_prompt_files, referenced_prompts

logger = logging.getLogger(__name__)

#: espeak-ng voice per prompt language. cmn-latn-pinyin reads Chinese characters (and pinyin).
VOICES = {"zh": "cmn-latn-pinyin", "en": "en", "yue": "yue"}
TOOLS = ("espeak-ng", "sox")


class PromptAudioError(RuntimeError):
    pass


@dataclass(frozen=True)
class Generated:
    created: list[Path]
    #: (prompt, language, why) for prompts left without a file.
    skipped: list[tuple[str, str, str]]


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def synthesize(text: str, target: Path, voice: str) -> None:
    """Speak `text` into `target` (8 kHz mono 16-bit WAV)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        _run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text])
        _run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)])


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise PromptAudioError(f"{command[0]} is not installed: apt-get install espeak-ng sox") from None
    except subprocess.CalledProcessError as exc:
        problem = exc.stderr.decode(errors="replace").strip()
        raise PromptAudioError(f"{command[0]} failed: {problem}") from None


def generate_prompts(config: IvrFile, files: PromptFiles, *, force: bool = False) -> Generated:
    """Make the missing prompt files (all of them with `force`)."""
    missing_tool = missing_tools()
    if missing_tool:
        raise PromptAudioError(f"{', '.join(missing_tool)} not installed: apt-get install espeak-ng sox")
    if force:
        names = sorted({name for _, name in referenced_prompts(config)})
        todo = [(n, lang, files.file(n, lang)) for n in names for lang in config.languages]
        todo = [item for item in todo if config.prompt_text(item[0], item[1]) is not None]
    else:
        todo = missing_prompt_files(config, files)
    created, skipped = [], []
    for name, language, path in todo:
        voice = VOICES.get(language)
        text = config.prompt_text(name, language)
        if voice is None or text is None:
            skipped.append((name, language, f"no espeak-ng voice for {language!r}: record it"))
            continue
        synthesize(text, path, voice)
        created.append(path)
        logger.debug("prompt %s (%s) written to %s", name, language, path)
    return Generated(created, skipped)
