"""Estimated waits from live queue state, the order call-backs are served in, spoken numbers and
Chinese phone numbers: pure functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ivr.phone import callable_number, caller_key
from ivr.prompts import spoken_count, spoken_digits
from ivr.virtual_hold_order import PendingCallback, next_to_serve, serving_order
from ivr.waiting import QueueSnapshot, estimate_wait, parse_snapshot, wait_minutes

NOW = 1_795_449_000.0


def snapshot(**changes: object) -> QueueSnapshot:
    values: dict[str, object] = dict(
        queue="consult",
        waiting=3,
        oldest_joined_at=NOW - 200,
        members_on_duty=2,
        members_available=0,
        members_paused=0,
        talking=2,
        avg_handle_s=300.0,
        updated_at=NOW - 5,
    )
    values.update(changes)
    return QueueSnapshot(**values)  # type: ignore[arg-type]


def test_wait_is_callers_ahead_over_serving_rate() -> None:
    estimate = estimate_wait(snapshot(), NOW, 60)
    assert estimate.position == 4 and estimate.seconds == 4 * 300 / 2 and not estimate.no_lawyer
    assert wait_minutes(estimate.seconds) == 10


def test_free_lawyers_mean_no_wait() -> None:
    assert estimate_wait(snapshot(waiting=1, members_available=2), NOW, 60).seconds == 0


def test_paused_lawyers_do_not_serve() -> None:
    assert estimate_wait(snapshot(members_paused=1), NOW, 60).seconds == 4 * 300 / 1
    all_paused = estimate_wait(snapshot(members_paused=2), NOW, 60)
    assert all_paused.seconds is None and not all_paused.no_lawyer


def test_nobody_on_duty() -> None:
    estimate = estimate_wait(snapshot(members_on_duty=0, talking=0), NOW, 60)
    assert estimate.no_lawyer and estimate.seconds is None


@pytest.mark.parametrize("state", [None, snapshot(updated_at=NOW - 61), snapshot(avg_handle_s=None)])
def test_unknown_wait_is_not_guessed(state: QueueSnapshot | None) -> None:
    estimate = estimate_wait(state, NOW, 60)
    assert estimate.seconds is None and not estimate.no_lawyer


def test_snapshot_parsing_refuses_bad_data() -> None:
    good = snapshot()
    assert parse_snapshot(json.dumps(good.__dict__), "consult") == good
    for raw in ("not json", "[]", json.dumps({**good.__dict__, "waiting": -1}), json.dumps({"queue": "x"})):
        assert parse_snapshot(raw, "consult") is None
    assert parse_snapshot(json.dumps({**good.__dict__, "updated_at": "yesterday"}), "consult") is None
    assert parse_snapshot(None, "consult") is None


T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_callbacks_are_served_in_arrival_order() -> None:
    pending = [PendingCallback(3, T0 + timedelta(minutes=2)), PendingCallback(1, T0), PendingCallback(2, T0)]
    assert [p.id for p in serving_order(pending)] == [1, 2, 3]
    assert next_to_serve(pending, []) == PendingCallback(1, T0)


def test_callback_never_goes_ahead_of_an_earlier_caller_still_waiting() -> None:
    pending = [PendingCallback(1, T0 + timedelta(minutes=5))]
    assert next_to_serve(pending, [T0 + timedelta(minutes=1), T0 + timedelta(minutes=9)]) is None
    assert next_to_serve(pending, [T0 + timedelta(minutes=6)]) == pending[0]
    assert next_to_serve([], []) is None


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, ["number-1"]),
        (2, ["number-2"]),
        (7, ["digit-7"]),
        (10, ["ten"]),
        (12, ["ten", "digit-2"]),
        (21, ["digit-2", "ten", "number-1"]),
        (40, ["digit-4", "ten"]),
        (99, ["digit-9", "ten", "digit-9"]),
        (100, ["many"]),
    ],
)
def test_counts_are_spoken_as_chinese_numerals(n: int, words: list[str]) -> None:
    assert spoken_count(n) == words


def test_phone_numbers_are_read_digit_by_digit() -> None:
    assert spoken_digits("13808081234")[:3] == ["digit-1", "digit-3", "digit-8"]


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("13808081234", "13808081234"),
        ("+8613808081234", "13808081234"),
        ("008613808081234", "13808081234"),
        ("028-8333-1234", "02883331234"),
        ("08321234567", "08321234567"),  # 资阳, four-digit area code
        ("5550100", None),  # no area code
        ("12348", None),  # a service number
        ("4008001234", None),  # a company's 400 line
        ("1380808123", None),  # one digit short
        ("+14155552671", None),  # abroad
        ("anonymous", None),
        ("", None),
        (None, None),
    ],
)
def test_callback_numbers_are_valid_chinese_numbers(raw: str | None, number: str | None) -> None:
    assert callable_number(raw) == number


def test_caller_keys() -> None:
    assert caller_key("+86 138-0808-1234") == "8613808081234"
    assert caller_key("unknown") is None and caller_key(None) is None
