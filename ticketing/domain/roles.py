"""Who uses the system (DESIGN.md §2)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    LAWYER = "lawyer"
    SUPERVISOR = "supervisor"
    STATION_STAFF = "station_staff"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Role.LAWYER: "值班律师",
    Role.SUPERVISOR: "班长/管理员",
    Role.STATION_STAFF: "工作站人员",
    Role.ADMIN: "系统管理员",
}

#: Roles that see callers' full phone numbers; everyone else gets them masked (138****1234).
ROLES_SEEING_FULL_NUMBERS = frozenset({Role.LAWYER, Role.SUPERVISOR, Role.ADMIN})


def mask_phone(number: str | None) -> str | None:
    """Keep the first three and last four digits: 13808081234 -> 138****1234."""
    if number is None:
        return None
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def sees_in_full(role: Role, own: bool = True) -> bool:
    """Whether `role` sees a call's or ticket's personal data (number, recordings) in full. A lawyer does
    only for calls put through to them (`own`), as the screen-pop; supervisors and admins for all."""
    return role in ROLES_SEEING_FULL_NUMBERS and (own or role is not Role.LAWYER)


def phone_as_seen_by(role: Role, number: str | None, own: bool = True) -> str | None:
    """A caller's number as `role` may see it: in full, or masked (the one rule every view applies)."""
    return number if sees_in_full(role, own) else mask_phone(number)
