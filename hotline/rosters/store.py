"""The duty_shifts table and the lawyers it names (SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hotline.rosters.lookups import Lawyer, LawyerDirectory
from hotline.rosters.model import RowError, Shift
from hotline.rosters.validate import ParsedRow
from storage.dialect import transaction_lock
from storage.tables import DutyShift, User
from ticketing.domain.roles import Role

#: Key of the PostgreSQL advisory lock that serialises roster imports.
IMPORT_LOCK = 12348_0005


def lawyer_directory(session: Session) -> LawyerDirectory:
    users = session.scalars(select(User).where(User.role == Role.LAWYER.value))
    return LawyerDirectory(Lawyer(u.id, u.username, u.display_name, u.interface, u.is_active) for u in users)


def lawyer_node_of(session: Session, interface: str, home_node: str | None) -> str | None:
    """The node of the one lawyer whose phone is `interface`: users.node, else `home_node`. None when
    no lawyer, or several (the same extension on two nodes), have that phone."""
    nodes = session.scalars(select(User.node).where(User.role == Role.LAWYER.value, User.interface == interface)).all()
    if len(nodes) != 1:
        return None
    return nodes[0] or home_node


def _shift(row: DutyShift, user: User) -> Shift:
    return Shift(
        lawyer_id=user.id,
        interface=user.interface or "",
        member_name=user.display_name,
        day=row.day,
        start=row.starts_at,
        end=row.ends_at,
        ends_next_day=row.ends_next_day,
        queues=tuple(row.queues),
        languages=tuple(row.languages),
        penalty=row.penalty,
        username=user.username,
        id=row.id,
        node=user.node,
    )


def load_shifts(session: Session, first: date, last: date, user_id: int | None = None) -> list[Shift]:
    """Shifts touching the days first..last: those starting then, and the night before's."""
    query = (
        select(DutyShift, User)
        .join(User, DutyShift.user_id == User.id)
        .where(DutyShift.day >= first - timedelta(days=1), DutyShift.day <= last)
        .order_by(DutyShift.day, DutyShift.starts_at, User.username)
    )
    if user_id is not None:
        query = query.where(DutyShift.user_id == user_id)
    shifts = [_shift(row, user) for row, user in session.execute(query)]
    return [s for s in shifts if s.day >= first or s.ends_next_day]


def lock_rosters(session: Session) -> None:
    """Serialise imports: two at once could each delete the other's dates and interleave shifts.
    SQLite serialises writers by itself."""
    transaction_lock(session, IMPORT_LOCK)


def count_on(session: Session, days: Iterable[date]) -> int:
    return session.scalar(select(func.count()).select_from(DutyShift).where(DutyShift.day.in_(list(days)))) or 0


def neighbour_conflicts(session: Session, source: str, rows: list[ParsedRow], column: str) -> list[RowError]:
    """New shifts overlapping a kept shift of the same lawyer on a day the file does not replace
    (a night shift reaching into the morning, or the other way round)."""
    days = {parsed.shift.day for parsed in rows}
    around = {day + timedelta(days=step) for day in days for step in (-1, 1)} - days
    if not around:
        return []
    kept = [
        shift
        for shift in load_shifts(session, min(around), max(around))
        if shift.day in around and shift.lawyer_id in {parsed.shift.lawyer_id for parsed in rows}
    ]
    errors = []
    for parsed in rows:
        for shift in kept:
            if shift.lawyer_id == parsed.shift.lawyer_id and shift.overlaps(parsed.shift):
                errors.append(
                    RowError(
                        source,
                        parsed.row,
                        column,
                        f"overlaps {shift.username}'s shift {shift.label} already in the roster"
                        f" (that day is not in this file; import it with this one or change the times)",
                    )
                )
    return errors


def replace_days(session: Session, rows: list[ParsedRow], source: str, imported_by: str, now: datetime) -> int:
    """Delete every shift on the dates of `rows` and insert `rows`; returns how many were deleted."""
    days = sorted({parsed.shift.day for parsed in rows})
    replaced = count_on(session, days)
    session.execute(delete(DutyShift).where(DutyShift.day.in_(days)))
    # A Core executemany: thousands of rows in one round of the driver, no ORM objects to track.
    session.execute(
        insert(DutyShift),
        [
            {
                "user_id": parsed.shift.lawyer_id,
                "day": parsed.shift.day,
                "starts_at": parsed.shift.start,
                "ends_at": parsed.shift.end,
                "ends_next_day": parsed.shift.ends_next_day,
                "queues": list(parsed.shift.queues),
                "languages": list(parsed.shift.languages),
                "penalty": parsed.shift.penalty,
                "source_file": source[:200],
                "source_row": parsed.row,
                "imported_at": now,
                "imported_by": imported_by[:80],
            }
            for parsed in rows
        ],
    )
    session.flush()
    return replaced
