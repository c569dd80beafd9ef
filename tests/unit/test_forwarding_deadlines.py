"""Forwarding deadlines on the real Chinese calendar (chinese-calendar package + config/categories.yaml):
weekends, public holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.bootstrap import ticket_policy
from settings.env import Settings
from settings.files import load_config

BEIJING = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parents[2]
POLICY = ticket_policy(Settings(config_dir=REPO / "config"), load_config(REPO / "config"))


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("forwarded", "category", "accept_due", "finish_due"),
    [
        # Tue Sep 30 2025, eve of National Day (Oct 1-8 off, Sat Oct 11 worked).
        # Accept: Thu Oct 9. 劳动争议 finishes in 3: Oct 9, 10, make-up Sat Oct 11.
        (beijing(2025, 9, 30, 10), "劳动争议", beijing(2025, 10, 10), beijing(2025, 10, 12)),
        # 婚姻家庭 (5): Oct 9, 10, 11, 13, 14.
        (beijing(2025, 9, 30, 10), "婚姻家庭", beijing(2025, 10, 10), beijing(2025, 10, 15)),
        # Fri Sep 26 2025: the next working day is the make-up Sunday Sep 28; then Sep 29 and 30.
        (beijing(2025, 9, 26, 16), "劳动争议", beijing(2025, 9, 29), beijing(2025, 10, 1)),
        # An ordinary Friday: the weekend is skipped.
        (beijing(2025, 11, 21, 9), "劳动争议", beijing(2025, 11, 25), beijing(2025, 11, 27)),
        # Fri Feb 13 2026 before Spring Festival: Sat Feb 14 worked, Feb 15-23 off.
        # 医疗纠纷 (10): Feb 14, 24, 25, 26, 27, make-up Sat 28, Mar 2, 3, 4, 5.
        (beijing(2026, 2, 13, 11), "医疗纠纷", beijing(2026, 2, 15), beijing(2026, 3, 6)),
        # Unknown category: the default 5 days.
        (beijing(2025, 11, 21, 9), None, beijing(2025, 11, 25), beijing(2025, 11, 29)),
    ],
)
def test_forwarding_deadlines(
    forwarded: datetime, category: str | None, accept_due: datetime, finish_due: datetime
) -> None:
    assert POLICY.due_at(forwarded, POLICY.accept_days) == accept_due
    assert POLICY.due_at(forwarded, POLICY.finish_days_for(category)) == finish_due


def test_late_evening_utc_is_already_the_next_day_in_beijing() -> None:
    # 17:00 UTC on Tue Sep 30 2025 is 01:00 on Wed Oct 1 in Beijing: counting starts from the holiday.
    assert POLICY.due_at(datetime(2025, 9, 30, 17, tzinfo=UTC), 1) == beijing(2025, 10, 10)
    # 15:59 UTC on Mon Sep 29 is 23:59 Beijing, still Monday: Tuesday is the working day.
    assert POLICY.due_at(datetime(2025, 9, 29, 15, 59, tzinfo=UTC), 1) == beijing(2025, 10, 1)


def test_category_finish_days_come_from_categories_yaml() -> None:
    assert POLICY.accept_days == 1 and POLICY.callback_days == 3
    assert POLICY.finish_days_for("劳动争议") == 3 and POLICY.finish_days_for("医疗纠纷") == 10
