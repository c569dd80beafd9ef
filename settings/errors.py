"""Errors that stop the service before it starts; each says where and what to do."""

from __future__ import annotations


class ConfigError(Exception):
    """A setting or configuration file is invalid. `problems` lists (file, field, problem)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"配置错误 / invalid configuration ({len(self.problems)} problem(s)):"]
        lines += [f"  {source}: {field}: {problem}" for source, field, problem in self.problems]
        return "\n".join(lines)
