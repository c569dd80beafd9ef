"""The import contract: the arrows of the README's architecture map, checked on the real import graph.

Every `import` and `from ... import` in the project's packages counts, including those inside
functions (a deferred import is still a dependency). A new import against the map fails here with the
file and line, and the rule it breaks.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("storage", "settings", "ticketing", "ivr", "hotline")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "ticketing.tickets"
    target: str  # the project module (or package) imported
    where: str  # file:line


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports() -> Iterator[Import]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _module_name(path)
            is_package = path.name == "__init__.py"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = module.split(".")
                        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                        base = ".".join([*anchor, base] if base else anchor)
                    targets = [f"{base}.{alias.name}" for alias in node.names]
                else:
                    continue
                for target in targets:
                    if target.split(".")[0] in PACKAGES:
                        yield Import(module, target, where)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


IMPORTS = list(project_imports())

#: (importer prefix, what it may import among the project's packages, why). The first matching rule
#: (longest prefix) applies; its own package is always allowed.
RULES: list[tuple[str, tuple[str, ...], str]] = [
    ("storage", (), "storage owns the schema and imports nothing of ours"),
    ("ticketing.domain", (), "the ticket domain is pure: standard library only"),
    ("ticketing", ("storage",), "the ticket core never reaches the edge (hotline) or the IVR"),
    ("settings", ("ticketing.domain",), "shared configuration sits below the IVR and the edge"),
    ("ivr", ("storage", "settings", "ticketing"), "the IVR gets the composition root passed in, never hotline"),
    ("hotline.domain", (), "the call side's domain is pure: standard library only"),
]


def _importers_of(prefix: str) -> list[Import]:
    return [i for i in IMPORTS if _within(i.target, prefix) and not _within(i.module, prefix)]


def test_routers_are_imported_only_by_the_app_and_never_by_each_other() -> None:
    """Routers translate; what two of them share is a presenter, a service or a read-side query."""
    broken = [
        f"{i.where}: {i.module} imports {i.target}"
        for i in IMPORTS
        if _within(i.target, "hotline.api.routes")
        and i.module != "hotline.app"
        and not (_within(i.module, "hotline.api.routes") and i.target == "hotline.api.routes")
    ]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [
        ("hotline.api", ("hotline.app", "hotline.web")),  # the pages use the API's sign-in
        ("hotline.web", ("hotline.app",)),
        ("hotline.app", ("hotline.cli",)),
        ("hotline.cli", ()),
    ],
)
def test_entry_points_are_imported_only_from_the_edge(prefix: str, allowed: tuple[str, ...]) -> None:
    broken = [
        f"{i.where}: {i.module} imports {i.target}"
        for i in _importers_of(prefix)
        if not any(_within(i.module, a) for a in allowed)
    ]
    assert not broken, "\n".join(broken)


def _rule_for(module: str) -> tuple[str, tuple[str, ...], str] | None:
    matching = [rule for rule in RULES if _within(module, rule[0])]
    return max(matching, key=lambda rule: len(rule[0])) if matching else None


def test_the_import_graph_was_read() -> None:
    assert any(i.module == "ticketing.tickets" and _within(i.target, "storage.tables") for i in IMPORTS)
    assert any(i.module.startswith("hotline.") for i in IMPORTS)


@pytest.mark.parametrize("prefix", [rule[0] for rule in RULES])
def test_package_imports_only_what_the_map_allows(prefix: str) -> None:
    broken = []
    for imp in IMPORTS:
        rule = _rule_for(imp.module)
        if rule is None or rule[0] != prefix or _within(imp.target, prefix):
            continue
        if not any(_within(imp.target, allowed) for allowed in rule[1]):
            broken.append(f"{imp.where}: {imp.module} imports {imp.target} ({rule[2]})")
    assert not broken, "\n".join(broken)


PURE_MODULES = ["ticketing.domain", "hotline.domain"]


@pytest.mark.parametrize("prefix", PURE_MODULES)
def test_pure_modules_import_only_the_standard_library(prefix: str) -> None:
    broken = []
    for path in sorted(ROOT.glob(prefix.replace(".", "/") + "*")):
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and not _within(name, prefix):
                        broken.append(f"{file.relative_to(ROOT)}:{node.lineno}: imports {name}")
    assert not broken, "\n".join(broken)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of packages that import each other, directly or around a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _package(module: str, depth: int) -> str:
    """The package (a folder, not a module) at most `depth` levels deep that holds `module`."""
    parts = module.split(".")[:depth]
    while len(parts) > 1 and not (ROOT / Path(*parts)).is_dir():
        parts.pop()
    return ".".join(parts)


@pytest.mark.parametrize("depth", [1, 2])
def test_no_import_cycle_between_packages(depth: int) -> None:
    """Top-level packages (depth 1) and their sub-packages (depth 2: hotline.api, ticketing.domain, ...)."""
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        source, target = _package(imp.module, depth), _package(imp.target, depth)
        if not _within(source, target) and not _within(target, source):
            graph.setdefault(source, set()).add(target)
    cycles = [sorted(group) for group in _strongly_connected(graph) if group not in KNOWN_CYCLES]
    assert not cycles, f"packages that import each other: {cycles}"


#: Cycles that issue 15's later steps remove; this list only shrinks.
KNOWN_CYCLES: list[set[str]] = []


def test_the_core_names_no_job_or_module_of_the_edge_in_a_string() -> None:
    """A dotted path in a string ("hotline.jobs.x") is an import no tool sees: the core records events instead."""
    broken = []
    for path in sorted((ROOT / "ticketing").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and node.value.startswith(("hotline.", "ivr.")):
                broken.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not broken, "\n".join(broken)
