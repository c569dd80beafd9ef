"""Every label a user sees comes from one place (hotline/labels.py, served by GET /api/labels).

These read the repository's own files: the IVR flow in config/, the steps the IVR records, and the
pages' scripts and HTML shells in hotline/web/static/. A menu node without a name, a button whose
words are written in a script, or a script that spells out a display name the labels already hold
is a second home for a label, and fails here with the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.labels import _FIXED, all_labels
from ivr.menu_checks import load_ivr_config
from settings.files import load_config

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "hotline" / "web" / "static"
SCRIPTS = sorted(STATIC.glob("*.js"))
SHELLS = sorted(STATIC.glob("*.html"))
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Groups whose values are the names of codes (one word or phrase each): a script that writes one
#: of these as a literal keeps a copy that drifts.
NAME_GROUPS = (
    "agent_states", "call_states", "call_outcomes", "call_directions", "ticket_statuses", "ticket_actions",
    "ticket_transitions", "buttons", "flags", "priorities", "channels", "green_groups", "roles",
    "callback_outcomes", "callback_statuses", "satisfaction", "phone_states", "feed_states", "health",
    "kpi_measures", "columns", "words",
)  # fmt: skip


@pytest.fixture(scope="module")
def labels() -> dict[str, dict[str, str]]:
    config = load_config(REPO / "config")
    return all_labels(config, load_ivr_config(REPO / "config", config))


def _literals(pattern: str) -> list[tuple[str, str]]:
    """("file:line", the pattern's last group) for every match in the pages' scripts, comments left
    out (a comment may name anything)."""
    found = re.compile(pattern)
    return [
        (f"{path.name}:{n}", m.group(m.lastindex or 0))
        for path in SCRIPTS
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        for m in found.finditer(re.sub(r"^\s*//.*$", "", line))
    ]


def test_every_ivr_node_and_recorded_step_has_a_chinese_name(labels: dict[str, dict[str, str]]) -> None:
    config = load_config(REPO / "config")
    nodes = set(load_ivr_config(REPO / "config", config).nodes)
    # Steps the IVR writes into a call's path besides the menu nodes: state.record("name", ...).
    recorded = {m for f in (REPO / "ivr").glob("*.py") for m in re.findall(r'record\("([\w-]+)"', f.read_text("utf-8"))}
    assert "blocked" in recorded and "main" in nodes  # the scan found what it looks for
    unnamed = sorted(n for n in nodes | recorded if not CJK.search(labels["ivr_nodes"].get(n, n)))
    assert not unnamed, f"IVR nodes shown by their codes; name them in hotline/labels.py IVR_NODES: {unnamed}"
    keys = {k: v for k, v in labels["ivr_keys"].items() if not CJK.search(v)}
    assert not keys, f"IVR keys leading to a node without a name: {keys}"


def test_buttons_and_links_the_scripts_build_take_their_words_from_the_labels() -> None:
    button = r'el\("(?:button|a)",\s*\{[^}]*?\btext:\s*(["\'`])([^"\'`]*)\1'
    assert re.search(button, 'el("button", { type: "button", className: "secondary", text: "拨打", onclick })')
    found = [f"{where}: {words}" for where, words in _literals(button) if re.search(r"[A-Za-z\u4e00-\u9fff]", words)]
    assert not found, "button words written in a script; use label('buttons', …):\n" + "\n".join(found)


def test_no_script_spells_out_a_display_name_the_labels_hold(labels: dict[str, dict[str, str]]) -> None:
    names = {name: group for group in NAME_GROUPS for name in labels[group].values()}
    copies = [
        f"{where}: {text!r} is {names[text]} in hotline/labels.py"
        for where, text in _literals(r'"([^"\\]*)"')
        if text in names
    ]
    assert not copies, "display names copied into scripts; read them with label():\n" + "\n".join(copies)


def test_labels_the_html_shells_ask_for_exist(labels: dict[str, dict[str, str]]) -> None:
    """{{group:code}} is filled in by the server (hotline/web/pages.py), data-label by common.js."""
    asked = []
    for path in SHELLS:
        for m in re.finditer(r'data-label(?:-aria)?="(\w+):([\w-]+)"|\{\{(\w+):([\w-]+)\}\}', path.read_text("utf-8")):
            group, code = (m[1], m[2]) if m[1] else (m[3], m[4])
            asked.append((path.name, group, code))
    assert len(asked) > 100, "the shells ask for (almost) no labels: the scan is broken"
    missing = [a for a in asked if a[2] not in labels.get(a[1], _FIXED.get(a[1], {}))]
    assert not missing, f"labels the shells name that do not exist: {missing}"


def test_html_shells_hold_no_chinese_words_of_their_own() -> None:
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in SHELLS
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if CJK.search(re.sub(r"<!--.*?-->", "", line))
    ]
    assert not found, "words written in an HTML shell; use {{shell:key}} (hotline/shell_words.py):\n" + "\n".join(found)


def test_no_html_shell_spells_out_a_display_name_the_labels_hold(labels: dict[str, dict[str, str]]) -> None:
    """A shell names a code's display name with data-label="group:code" (data-label-aria for its
    aria-label), filled by common.js, instead of writing a copy that drifts."""
    names = {name: group for group in NAME_GROUPS for name in labels[group].values()}
    shown = re.compile(r'>([^<>]+)<|(?:placeholder|title|aria-label)="([^"]+)"')
    copies = [
        f"{path.name}:{n}: {text!r} is {names[text]} in hotline/labels.py"
        for path in SHELLS
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        for m in shown.finditer(line)
        if (text := (m.group(1) or m.group(2) or "").strip()) in names
    ]
    assert not copies, "display names copied into the HTML shells; use data-label:\n" + "\n".join(copies)


#: Every script holds no words of its own: every string it shows is a label. The one exception is
#: marked on the line before with `// no-label: why` (a message for when the server, and so its labels,
#: cannot be reached).
NO_LABEL = "// no-label:"


def test_scripts_write_no_chinese_words_of_their_own() -> None:
    words = re.compile(r"\"([^\"\\\\]*)\"|'([^'\\\\]*)'|`([^`]*)`")
    found, excused = [], []
    for path in SCRIPTS:
        previous = ""
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if re.match(r"\s*(//|/\*\*|\*)", line):
                previous = line
                continue  # comments and doc comments may name anything
            for m in words.finditer(line):
                text = next(g for g in m.groups() if g is not None)
                if CJK.search(re.sub(r"\$\{[^}]*\}", "", text)):
                    (excused if NO_LABEL in previous else found).append(f"{path.name}:{n}: {text}")
            previous = line
    assert not found, "words written in a script; add them to hotline/page_words.py:\n" + "\n".join(found)
    assert len(excused) <= 2, f"more exceptions than the two network/session messages: {excused}"


def test_every_label_a_script_asks_for_exists(labels: dict[str, dict[str, str]]) -> None:
    """A label that does not exist shows its code on screen; a typo must fail here, not in front of a user."""
    asked: list[tuple[str, str, str]] = []
    for path in SCRIPTS:
        source = path.read_text("utf-8")
        asked += [(path.name, g, c) for g, c in re.findall(r'\blabelf?\("(\w+)", "([\w-]+)"', source)]
        own = re.search(r'const P = \(code, values\) => labelf\("(\w+)"', source)
        if own:
            asked += [(path.name, own.group(1), c) for c in re.findall(r'\bP\("(\w+)"', source)]
    assert len(asked) > 100  # the scan sees the pages' labels
    missing = sorted({a for a in asked if a[2] not in labels.get(a[1], {})})
    assert not missing, f"labels asked for that hotline/labels.py does not have: {missing}"
