"""A duty shift and the local times it covers. Standard library only.

Times are local wall-clock times of the hotline's zone (Asia/Shanghai, which has no daylight saving,
so minutes can be added without surprises). A shift belongs to the date it starts on; one that ends
at midnight or later says so with `ends_next_day` (24:00 is stored as 00:00 of the next day, a night
shift 22:00 → 次日08:00 as 08:00 of the next day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

#: The longest shift a roster may hold; longer is a typing mistake, not a duty.
MAX_SHIFT = timedelta(hours=24)


@dataclass(frozen=True)
class Shift:
    lawyer_id: int
    #: The lawyer's queue member interface (users.interface), e.g. PJSIP/1001.
    interface: str
    #: MemberName in the queue: the lawyer's display name.
    member_name: str
    day: date
    start: time
    end: time
    ends_next_day: bool
    queues: tuple[str, ...]
    languages: tuple[str, ...] = ()
    #: Asterisk member penalty (lower rings first); None leaves Asterisk's default.
    penalty: int | None = None
    username: str = ""
    id: int | None = None
    #: The lawyer's own node (users.node); None: the install's first node (see lawyer_node).
    node: str | None = None

    @property
    def starts_at(self) -> datetime:
        """Naive local datetime the shift starts."""
        return datetime.combine(self.day, self.start)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1) if self.ends_next_day else self.day, self.end)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def on_duty(self, local_now: datetime) -> bool:
        return self.starts_at <= local_now < self.ends_at

    def overlaps(self, other: Shift) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    @property
    def hours_label(self) -> str:
        """09:00–12:00, 13:30–24:00, 22:00–次日08:00."""
        return f"{self.start:%H:%M}–{format_end(self.end, self.ends_next_day)}"

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} {self.hours_label}"


def format_end(end: time, ends_next_day: bool) -> str:
    if not ends_next_day:
        return f"{end:%H:%M}"
    return "24:00" if end == time(0) else f"次日{end:%H:%M}"


def lawyer_node(own: str | None, home_node: str) -> str:
    """The Asterisk node a lawyer's phone registers on: their own, else the install's first (home) node.
    Only that node's bridge seats the lawyer, and the lawyer's calls are placed there."""
    return own or home_node


def local_wall_clock(now: datetime, tz: tzinfo | None) -> datetime:
    """`now` as a naive local datetime: aware values are converted to `tz`, naive ones taken as local."""
    if now.tzinfo is None:
        return now
    if tz is None:
        raise ValueError("an aware `now` needs the hotline's time zone to be compared with local shift times")
    return now.astimezone(tz).replace(tzinfo=None)


def shifts_on_duty(shifts: list[Shift], local_now: datetime) -> list[Shift]:
    return [shift for shift in shifts if shift.on_duty(local_now)]


@dataclass(frozen=True)
class Formula:
    """A spreadsheet cell holding a formula: refused, because its value is whatever Excel last showed."""

    text: str


Cell = str | Formula


@dataclass(frozen=True)
class RawTable:
    """A roster file as rows of cells: `headers` is the first non-empty row; rows are numbered as in the
    spreadsheet (the header row is usually 1)."""

    source: str
    headers: list[str]
    rows: list[tuple[int, list[Cell]]]
    header_row: int = 1


@dataclass(frozen=True)
class RowError:
    source: str
    row: int
    column: str
    reason: str

    def render(self) -> str:
        return f"{self.source}:{self.row}:{self.column}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.source, "row": self.row, "column": self.column, "reason": self.reason}
