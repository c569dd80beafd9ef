"""Queue KPIs from counts, exactly as DESIGN.md §5 defines them (app_queue semantics). No I/O.

A ratio whose denominator is zero is None ("no calls"), never 0 % or 100 %.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else round(numerator / denominator, 4)


@dataclass(frozen=True)
class QueueCounts:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_t: int = 0
    abandoned_within_t: int = 0
    answered_wait_total: float = 0.0
    handle_total: float = 0.0
    longest_wait: float | None = None
    closed_hours: int = 0
    #: Answered calls whose talk time is known: a call whose end the bridge did not see (an
    #: outage) is answered but not handled, and stays out of AHT rather than skewing it.
    handled: int = 0

    @property
    def connection_rate(self) -> float | None:
        """接通率 = answered / offered."""
        return _ratio(self.answered, self.offered)

    @property
    def service_level(self) -> float | None:
        """SL = answered within T / answered."""
        return _ratio(self.answered_within_t, self.answered)

    @property
    def service_level_2(self) -> float | None:
        """SL2 = (answered within T + abandoned within T) / (answered + abandoned)."""
        return _ratio(self.answered_within_t + self.abandoned_within_t, self.answered + self.abandoned)

    @property
    def asa(self) -> float | None:
        """Average speed of answer: mean wait of answered calls, seconds."""
        return None if not self.answered else round(self.answered_wait_total / self.answered, 2)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered)

    @property
    def aht(self) -> float | None:
        """Average handling time: mean talk + wrap-up of answered calls whose talk time is known, seconds."""
        return None if not self.handled else round(self.handle_total / self.handled, 2)

    def report(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "connection_rate": self.connection_rate,
            "service_level": self.service_level,
            "service_level_2": self.service_level_2,
            "asa": self.asa,
            "abandon_rate": self.abandon_rate,
            "aht": self.aht,
        }
