"""Escalation (督办) rules: which deadlines have lapsed, and which station level hears of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ticketing.domain.escalation import DeadlineKind, Lapse, escalation_target, lapses, station_chain
from ticketing.domain.lifecycle import TicketStatus as S

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PAST, FUTURE = NOW - timedelta(minutes=1), NOW + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("status", "accept", "finish", "expected"),
    [
        (S.FORWARDED, PAST, FUTURE, [DeadlineKind.ACCEPT]),
        (S.FORWARDED, PAST, PAST, [DeadlineKind.ACCEPT, DeadlineKind.FINISH]),
        (S.FORWARDED, NOW, FUTURE, [DeadlineKind.ACCEPT]),  # due at midnight: lapsed at midnight
        (S.FORWARDED, FUTURE, FUTURE, []),
        (S.RECEIVED, PAST, FUTURE, []),  # accepted (late or not): the accept step is done
        (S.RECEIVED, PAST, PAST, [DeadlineKind.FINISH]),
        (S.IN_PROGRESS, PAST, PAST, [DeadlineKind.FINISH]),
        (S.CLOSED, PAST, PAST, []),
        (S.RETURNED, None, None, []),
        (S.ACCEPTED, None, None, []),
    ],
)
def test_lapses(status: S, accept: datetime | None, finish: datetime | None, expected: list[DeadlineKind]) -> None:
    found = lapses(status, accept, finish, NOW)
    assert [lapse.kind for lapse in found] == expected
    deadlines = {DeadlineKind.ACCEPT: accept, DeadlineKind.FINISH: finish}
    assert all(lapse == Lapse(lapse.kind, deadlines[lapse.kind]) for lapse in found)


def test_each_escalation_goes_one_level_higher_up_to_the_root() -> None:
    village = "/1/2/5/9/14/"  # province / city / county / township / village
    assert escalation_target(village, 0) == (9, 1)  # the township
    assert escalation_target(village, 1) == (5, 2)  # the county
    assert escalation_target(village, 3) == (1, 4)  # the province
    assert escalation_target(village, 7) == (1, 4)  # nothing above the root
    assert escalation_target("/1/", 0) == (1, 0)  # the root's own lapse stays at the root


@pytest.mark.parametrize("path", ["", "/", "/a/2/", "1//x"])
def test_malformed_station_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        station_chain(path)


def test_deadline_labels() -> None:
    assert DeadlineKind.ACCEPT.label == "接收期限" and DeadlineKind.FINISH.label == "办结期限"
