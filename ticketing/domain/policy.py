"""Deadlines a ticket runs on: accept and finish after forwarding, call-back after closing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketing.domain.errors import InvalidInput
from ticketing.domain.workdays import WorkCalendar


@dataclass(frozen=True)
class TicketPolicy:
    calendar: WorkCalendar
    tz: ZoneInfo
    accept_days: int = 1
    callback_days: int = 3
    default_finish_days: int = 5
    finish_days: Mapping[str, int] = field(default_factory=dict)
    #: Each category of categories.yaml with its subcategories; None: no list to check against.
    categories: Mapping[str, frozenset[str]] | None = None

    def check_category(self, category: str | None, subcategory: str | None) -> None:
        """Refuse a category that categories.yaml does not list, or a subcategory not of it."""
        if self.categories is None:
            return
        if category is None:
            if subcategory is not None:
                raise InvalidInput("小类须与大类一起填写 / a subcategory needs its category", subcategory=subcategory)
            return
        if category not in self.categories:
            raise InvalidInput(
                f"未知类别「{category}」 / unknown category", category=category, allowed=sorted(self.categories)
            )
        if subcategory is not None and subcategory not in self.categories[category]:
            raise InvalidInput(
                f"「{subcategory}」不是「{category}」的小类 / subcategory not of this category",
                category=category,
                subcategory=subcategory,
                allowed=sorted(self.categories[category]),
            )

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def due_at(self, start: datetime, working_days: int) -> datetime:
        """End of the `working_days`-th working day after `start`'s local date (local midnight)."""
        last_day = self.calendar.add_working_days(self.local_date(start), working_days)
        return datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=self.tz)

    def finish_days_for(self, category: str | None) -> int:
        if category is None:
            return self.default_finish_days
        return self.finish_days.get(category, self.default_finish_days)

    def callback_due_date(self, closed_at: datetime) -> date:
        return self.calendar.add_working_days(self.local_date(closed_at), self.callback_days)
