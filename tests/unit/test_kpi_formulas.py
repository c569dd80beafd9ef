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
        handled=8,  # all 8 answered calls ended in sight of the bridge
    )
    assert counts.connection_rate == 0.8
    assert counts.service_level == 0.75  # 6 of 8 answered within T
    assert counts.service_level_2 == 0.7  # (6 + 1) / (8 + 2)
    assert counts.asa == 10.0
    assert counts.abandon_rate == 0.2
    assert counts.aht == 300.0


def test_an_answered_call_whose_end_was_not_seen_stays_out_of_aht_only() -> None:
    """Issue 11, defect 4: 3 calls handled in 100, 200 and 300 s, a fourth answered before an outage
    and gone after it. It counts as answered (connection rate, SL, ASA), not in AHT."""
    counts = QueueCounts(
        offered=4, answered=4, answered_within_t=4, answered_wait_total=20.0, handle_total=600.0, handled=3
    )
    assert counts.aht == 200.0
    assert counts.connection_rate == 1.0 and counts.asa == 5.0


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
