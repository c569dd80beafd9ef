"""The structured configuration files in `config/`, validated before anything starts.

Every problem is reported with the file, the field (as a path such as `root.children[2].code`) and
what is wrong, all at once, so an admin fixes a file in one pass.
"""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from settings.errors import ConfigError
from settings.routing import RoutingFile, cross_check

STATION_LEVELS = ("province", "city", "county", "township", "village")
LEVEL_LABELS = {
    "province": "省",
    "city": "市/州",
    "county": "县/区",
    "township": "乡镇/街道",
    "village": "村/社区",
}
_CODE_DIGITS = {"province": 6, "city": 6, "county": 6, "township": 9, "village": 12}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StationNode(_Strict):
    code: str = Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$", description="administrative division code")
    name: str = Field(min_length=1, max_length=100)
    level: Literal["province", "city", "county", "township", "village"]
    kind: Literal["centre", "station", "room"]
    phone: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=200)
    services: list[str] = Field(default_factory=list)
    #: Short names callers use ("乐至" for 乐至县); the router matches these too.
    aliases: list[str] = Field(default_factory=list)
    children: list[StationNode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _code_fits_level(self) -> StationNode:
        digits = _CODE_DIGITS[self.level]
        if len(self.code) != digits:
            raise ValueError(f"a {self.level} code has {digits} digits, {self.code!r} has {len(self.code)}")
        if self.level == "province" and not self.code.endswith("0000"):
            raise ValueError(f"a province code ends in 0000, got {self.code!r}")
        if self.level == "city" and (not self.code.endswith("00") or self.code.endswith("0000")):
            raise ValueError(f"a city code ends in 00 (but not 0000), got {self.code!r}")
        for i, child in enumerate(self.children):
            if STATION_LEVELS.index(child.level) <= STATION_LEVELS.index(self.level):
                raise ValueError(f"children[{i}] ({child.name}) is a {child.level} under a {self.level}")
            if not child.code.startswith(_prefix(self)):
                raise ValueError(f"children[{i}] code {child.code} does not start with {_prefix(self)}")
        return self


def _prefix(node: StationNode) -> str:
    """The part of a division code a child must share: 51 for a province, 5120 for a city."""
    return {"province": node.code[:2], "city": node.code[:4]}.get(node.level, node.code)


class StationsFile(_Strict):
    root: StationNode

    @model_validator(mode="after")
    def _codes_unique(self) -> StationsFile:
        seen: set[str] = set()
        for node in walk_stations(self.root):
            if node.code in seen:
                raise ValueError(f"division code {node.code} appears more than once")
            seen.add(node.code)
        return self


def walk_stations(node: StationNode) -> list[StationNode]:
    nodes = [node]
    for child in node.children:
        nodes += walk_stations(child)
    return nodes


class ServiceLine(_Strict):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str = Field(min_length=1)


class Category(_Strict):
    name: str = Field(min_length=1, max_length=32)
    subcategories: list[str] = Field(default_factory=list)
    #: Working days a station has to finish a forwarded ticket of this category.
    finish_days: int = Field(5, ge=1, le=60)
    service_line: str = "consultation"


class CategoriesFile(_Strict):
    service_lines: list[ServiceLine] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    #: Working days a station has to accept a forwarded ticket.
    accept_days: int = Field(1, ge=1, le=10)
    #: Working days after closing within which the call-back is due (DESIGN.md §5).
    callback_days: int = Field(3, ge=1, le=30)

    @model_validator(mode="after")
    def _consistent(self) -> CategoriesFile:
        lines = {line.code for line in self.service_lines}
        names = [c.name for c in self.categories]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"categories listed twice: {', '.join(duplicates)}")
        for i, category in enumerate(self.categories):
            if category.service_line not in lines:
                raise ValueError(
                    f"categories[{i}] ({category.name}): service_line {category.service_line!r}"
                    f" is not one of {', '.join(sorted(lines))}"
                )
        return self

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")


class Schedule(_Strict):
    #: working_days follows the Chinese calendar with its make-up days; every_day is 7×24 style.
    days: Literal["working_days", "every_day"]
    hours: list[str] = Field(min_length=1)

    @field_validator("hours")
    @classmethod
    def _ranges(cls, hours: list[str]) -> list[str]:
        for text in hours:
            check_hour_range(text)
        return hours


def check_hour_range(text: str) -> None:
    """A range within one day, HH:MM-HH:MM (24:00 ends the day); ValueError says what is wrong."""
    if not _HOURS.match(text):
        raise ValueError(f"{text!r} is not a range like 09:00-17:30")
    start, end = text.split("-")
    if end != "24:00" and time.fromisoformat(end) <= time.fromisoformat(start):
        raise ValueError(f"{text!r} ends before it starts")


class QueueHours(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Asterisk queue name")
    label: str
    schedule: str
    #: Where closed-hours calls go: overflow (another number), voicemail, or callback.
    after_hours: Literal["overflow", "voicemail", "callback"] = "voicemail"
    overflow_number: str | None = None


class YearCalendar(_Strict):
    holidays: list[date] = Field(default_factory=list)
    #: 调休: weekend days that are working days.
    workdays: list[date] = Field(default_factory=list)


class Closure(_Strict):
    start: date
    end: date
    reason: str

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end < self.start:
            raise ValueError(f"closure ends ({self.end}) before it starts ({self.start})")
        return self


class ServiceHoursFile(_Strict):
    schedules: dict[str, Schedule] = Field(min_length=1)
    queues: list[QueueHours] = Field(min_length=1)
    #: Holidays and make-up working days by year, for years the calendar package does not know yet.
    calendar: dict[int, YearCalendar] = Field(default_factory=dict)
    closures: list[Closure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> ServiceHoursFile:
        seen: set[str] = set()
        for i, queue in enumerate(self.queues):
            if queue.name in seen:
                raise ValueError(f"queues[{i}] ({queue.name}): queue listed twice")
            if queue.name == "general":
                raise ValueError(f"queues[{i}]: 'general' is the settings section of queues.conf, not a queue name")
            seen.add(queue.name)
            if queue.schedule not in self.schedules:
                raise ValueError(
                    f"queues[{i}] ({queue.name}): schedule {queue.schedule!r} is not defined"
                    f" (defined: {', '.join(sorted(self.schedules))})"
                )
            if queue.after_hours == "overflow" and not queue.overflow_number:
                raise ValueError(f"queues[{i}] ({queue.name}): after_hours overflow needs overflow_number")
        for year, cal in self.calendar.items():
            for day in [*cal.holidays, *cal.workdays]:
                if day.year != year:
                    raise ValueError(f"calendar.{year}: {day} is not in {year}")
        return self


class HotlineConfig(_Strict):
    stations: StationsFile
    categories: CategoriesFile
    service_hours: ServiceHoursFile
    routing: RoutingFile


M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """Safe YAML with dates left as text: pydantic parses them, so 2027-02-30 is reported with its
    field path instead of crashing the YAML parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([(str(path), "-", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([(str(path), "-", f"cannot read: {exc}")]) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([(str(path), where, f"not valid YAML: {problem}")]) from None


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "-"


def load_file(path: Path, model: type[M]) -> M:
    data = _load_yaml(path)
    if data is None:
        raise ConfigError([(str(path), "-", "file is empty")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [(str(path), _field_path(err["loc"]), err["msg"].removeprefix("Value error, ")) for err in exc.errors()]
        ) from None


def load_config(config_dir: Path) -> HotlineConfig:
    """Load and check every file; raise one ConfigError listing all problems in all files."""
    problems: list[tuple[str, str, str]] = []
    loaded: dict[str, Any] = {}
    for key, model in (
        ("stations", StationsFile),
        ("categories", CategoriesFile),
        ("service_hours", ServiceHoursFile),
        ("routing", RoutingFile),
    ):
        try:
            loaded[key] = load_file(config_dir / f"{key}.yaml", model)
        except ConfigError as exc:
            problems += exc.problems
    if {"routing", "categories", "stations"} <= loaded.keys():
        where = str(config_dir / "routing.yaml")
        problems += [(where, *p) for p in cross_check(loaded["routing"], loaded["categories"], loaded["stations"])]
    if problems:
        raise ConfigError(problems)
    return HotlineConfig(**loaded)
