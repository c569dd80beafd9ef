"""KPI formulas of DESIGN.md §5 on counts with known answers."""

from __future__ import annotations

from hotline.domain.kpi_formulas import QueueCounts


def test_formulas_on_a_known_call_set() -> None:
    counts = QueueCounts(
        offered=10,
        answered=8,
        abandoned=2,
        answered_within_t=6,
        abandoned_within_t=1,
        answered_wait_total=80.0,
        handle_total=2400.0,
        longest_wait=45.0,
    )
    assert counts.connection_rate == 0.8
    assert counts.service_level == 0.75  # 6 of 8 answered within T
    assert counts.service_level_2 == 0.7  # (6 + 1) / (8 + 2)
    assert counts.asa == 10.0
    assert counts.abandon_rate == 0.2
    assert counts.aht == 300.0


def test_abandoned_call_counts_against_sl2_but_not_sl() -> None:
    base = QueueCounts(offered=1, answered=1, answered_within_t=1, answered_wait_total=3)
    with_abandon = QueueCounts(
        offered=2, answered=1, abandoned=1, answered_within_t=1, answered_wait_total=3
    )  # abandoned after T
    assert base.service_level == with_abandon.service_level == 1.0
    assert with_abandon.service_level_2 == 0.5
    assert with_abandon.connection_rate == 0.5


def test_no_calls_gives_no_figures_rather_than_zero() -> None:
    empty = QueueCounts()
    assert empty.connection_rate is None and empty.service_level is None and empty.service_level_2 is None
    assert empty.asa is None and empty.abandon_rate is None and empty.aht is None
    report = empty.report()
    assert report["offered"] == 0 and report["connection_rate"] is None
