"""Checks across config/ivr.yaml and the other files, each problem with its file and path.

The file loads field by field through pydantic first (types, ranges, time ranges); then these checks
find what only the whole picture shows: a destination that does not exist, a loop a silent caller
never leaves, a prompt without text, a queue or topic the other files do not know.
"""

from __future__ import annotations

from pathlib import Path

from ivr.menu_config import EXITS, IvrFile, Node, Target, as_target
from ivr.prompts import referenced_prompts
from settings.errors import ConfigError
from settings.files import HotlineConfig, load_file

IVR_FILE = "ivr.yaml"

#: Fields that mean something for each node type (beyond `type`).
_FIELDS = {
    "play": {"prompt", "next"},
    "menu": {
        "prompt",
        "options",
        "timeout_s",
        "retries",
        "repeat_key",
        "on_exhausted",
        "invalid_prompt",
        "timeout_prompt",
    },
    "queue": {"prompt", "queue", "topic", "service_line", "priority", "after_hours", "number"},
    "voicemail": {"prompt", "queue", "topic", "service_line"},
    "callback": {"prompt", "queue", "topic", "priority"},
    "overflow": {"prompt", "number"},
    "hangup": {"prompt"},
}
_REQUIRED = {
    "play": ("prompt", "next"),
    "menu": ("prompt", "options", "on_exhausted"),
    "queue": ("queue",),
    "voicemail": ("queue",),
    "callback": ("queue",),
    "overflow": ("number",),
    "hangup": (),
}


def load_ivr_config(config_dir: Path, hotline: HotlineConfig) -> IvrFile:
    """Load config/ivr.yaml and check it against the other files; ConfigError lists every problem."""
    path = config_dir / IVR_FILE
    config = load_file(path, IvrFile)
    problems = [(str(path), where, what) for where, what in check_ivr(config, hotline)]
    if problems:
        raise ConfigError(problems)
    return config


def check_ivr(config: IvrFile, hotline: HotlineConfig) -> list[tuple[str, str]]:
    """(path, problem) for every inconsistency; empty when the menus are sound."""
    problems: list[tuple[str, str]] = []
    queues = {q.name for q in hotline.service_hours.queues}
    topics = {c.name for c in hotline.categories.categories}
    lines = {line.code for line in hotline.categories.service_lines}
    if config.start not in config.nodes:
        problems.append(("start", f"unknown node {config.start!r}{_known(config.nodes)}"))
    if config.default_language not in config.languages:
        problems.append(("default_language", f"{config.default_language!r} is not in languages"))
    for name, node in config.nodes.items():
        where = f"nodes.{name}"
        problems += _node_fields(where, node)
        for field, target in _targets(node):
            problems += _target(f"{where}.{field}", target, config)
        if node.repeat_key is not None and node.repeat_key in node.options:
            problems.append((f"{where}.repeat_key", f"key {node.repeat_key!r} is also an option"))
        if node.queue is not None and node.queue not in queues:
            problems.append((f"{where}.queue", f"unknown queue {node.queue!r}: not in service_hours.yaml"))
        if node.topic is not None and node.topic not in topics:
            problems.append((f"{where}.topic", f"unknown topic {node.topic!r}: not a category in categories.yaml"))
        if node.service_line is not None and node.service_line not in lines:
            problems.append((f"{where}.service_line", f"unknown service line {node.service_line!r}"))
    problems += _silent_loops(config)
    for where, prompt in referenced_prompts(config):
        text = config.prompt_text(prompt)
        if text is None or not text.strip():
            at = where if where != "-" else f"prompts.{prompt}"
            problems.append((at, f"prompt {prompt!r} has no text in {config.default_language}: add prompts.{prompt}"))
    for i, closure in enumerate(config.closures):
        for queue in closure.queues:
            if queue not in queues:
                problems.append((f"closures[{i}].queues", f"unknown queue {queue!r}"))
    return problems


def _known(names: object) -> str:
    return f" (known: {', '.join(sorted(names))})" if names else ""  # type: ignore[call-overload]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _node_fields(where: str, node: Node) -> list[tuple[str, str]]:
    problems = []
    given = {field for field in node.model_fields_set if field != "type"}
    for field in sorted(given - _FIELDS[node.type]):
        problems.append((f"{where}.{field}", f"does not apply to {_article(node.type)} {node.type} node"))
    for field in _REQUIRED[node.type]:
        if not getattr(node, field):
            problems.append((f"{where}.{field}", f"{_article(node.type)} {node.type} node needs {field}"))
    return problems


def _targets(node: Node) -> list[tuple[str, Target]]:
    found = [(f"options.{key}", as_target(value)) for key, value in node.options.items()]
    for field in ("next", "on_exhausted"):
        value = getattr(node, field)
        if value is not None:
            found.append((field, as_target(value)))
    return found


def _target(where: str, target: Target, config: IvrFile) -> list[tuple[str, str]]:
    problems = []
    if target.goto not in config.nodes:
        problems.append((where, f"unknown destination {target.goto!r}{_known(config.nodes)}"))
    if target.language is not None and target.language not in config.languages:
        problems.append((where, f"unknown language {target.language!r}{_known(config.languages)}"))
    if target.green is not None and target.green not in config.green_groups:
        problems.append((where, f"unknown green-channel group {target.green!r}{_known(config.green_groups)}"))
    return problems


def silent_next(node: Node) -> str | None:
    """Where a caller who presses nothing goes from `node` (None for an exit)."""
    if node.type in EXITS:
        return None
    value = node.next if node.type == "play" else node.on_exhausted
    return as_target(value).goto if value is not None else None


def _silent_loops(config: IvrFile) -> list[tuple[str, str]]:
    """A caller who never presses a key must still reach an exit from every node."""
    problems = []
    reported: set[frozenset[str]] = set()
    for name in config.nodes:
        trail = [name]
        while True:
            following = silent_next(config.nodes[trail[-1]])
            if following is None or following not in config.nodes:
                break  # an exit, or an unknown destination reported above
            if following in trail:
                loop = trail[trail.index(following) :]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    shown = " → ".join([*loop, following])
                    problems.append(
                        (
                            f"nodes.{loop[0]}",
                            f"loop without exit: a caller who presses nothing goes {shown} forever;"
                            " point one of these nodes' on_exhausted/next at a queue, voicemail or hangup",
                        )
                    )
                break
            trail.append(following)
    return problems
