"""For tests that write something for "today" and then ask the service about today: the service reads
the wall clock, so such a test must not straddle local midnight."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo


def clear_of_local_midnight(tz: ZoneInfo, seconds: float = 60.0) -> None:
    """Sleep until just past local midnight when it is less than `seconds` away, so that a test taking
    at most that long sees one local day from start to end (CI runs at any hour)."""
    now = datetime.now(tz)
    midnight = datetime.combine(now.date() + timedelta(days=1), dt_time(0), tzinfo=tz)
    left = (midnight - now).total_seconds()
    if left < seconds:
        time.sleep(left + 0.5)
