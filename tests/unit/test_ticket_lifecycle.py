"""The ticket state machine, exhaustively: every (from, to) pair for every role."""

from __future__ import annotations

import itertools

import pytest

from ticketing.domain.errors import InvalidTransition, MissingTransitionInput, TransitionNotPermitted
from ticketing.domain.lifecycle import TicketStatus as S
from ticketing.domain.lifecycle import allowed_targets, plan_transition
from ticketing.domain.roles import Role

DESK = {Role.LAWYER, Role.SUPERVISOR, Role.ADMIN}
STATION = {Role.STATION_STAFF, Role.SUPERVISOR, Role.ADMIN}
OVERSIGHT = {Role.SUPERVISOR, Role.ADMIN}

# Written from the specification, not derived from the module under test.
EXPECTED: dict[tuple[S, S], tuple[str, set[Role], set[str]]] = {
    (S.ACCEPTED, S.CLOSED): ("resolve", DESK, {"result"}),
    (S.ACCEPTED, S.FORWARDED): ("forward", DESK, {"station_id"}),
    (S.FORWARDED, S.RECEIVED): ("accept", STATION, set()),
    (S.FORWARDED, S.RETURNED): ("return", STATION, {"reason"}),
    (S.RECEIVED, S.IN_PROGRESS): ("start", STATION, set()),
    (S.RECEIVED, S.RETURNED): ("return", STATION, {"reason"}),
    (S.IN_PROGRESS, S.CLOSED): ("finish", STATION, {"result"}),
    (S.RETURNED, S.FORWARDED): ("forward", DESK, {"station_id"}),
    (S.RETURNED, S.CLOSED): ("resolve", DESK, {"result"}),
    (S.CLOSED, S.FOLLOWED_UP): ("follow_up", DESK, set()),
    (S.CLOSED, S.ACCEPTED): ("reopen", OVERSIGHT, {"reason"}),
    (S.FOLLOWED_UP, S.ACCEPTED): ("reopen", OVERSIGHT, {"reason"}),
    (S.FOLLOWED_UP, S.ARCHIVED): ("archive", OVERSIGHT, set()),
}
FULL_INPUT = {"station_id": 7, "reason": "不属于本辖区", "result": "已解答"}


@pytest.mark.parametrize(("source", "target", "role"), list(itertools.product(S, S, Role)))
def test_every_pair_and_role(source: S, target: S, role: Role) -> None:
    expected = EXPECTED.get((source, target))
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            plan_transition(source, target, role, **FULL_INPUT)  # type: ignore[arg-type]
        details = refused.value.details
        assert details["current"] == source.value and details["requested"] == target.value
        assert details["allowed"] == [t.value for (s, t) in EXPECTED if s is source]
        return
    action, roles, _needs = expected
    if role not in roles:
        with pytest.raises(TransitionNotPermitted) as refused:
            plan_transition(source, target, role, **FULL_INPUT)  # type: ignore[arg-type]
        assert refused.value.details["action"] == action
        return
    transition = plan_transition(source, target, role, **FULL_INPUT)  # type: ignore[arg-type]
    assert (transition.action, transition.source, transition.target) == (action, source, target)


@pytest.mark.parametrize(("edge", "spec"), list(EXPECTED.items()))
def test_required_inputs_are_named_when_missing(edge: tuple[S, S], spec: tuple[str, set[Role], set[str]]) -> None:
    source, target = edge
    _action, roles, needs = spec
    role = sorted(roles)[0]
    if not needs:
        plan_transition(source, target, role)
        return
    with pytest.raises(MissingTransitionInput) as missing:
        plan_transition(source, target, role)
    assert set(missing.value.details["missing"]) == needs
    blank = {name: "   " for name in needs if name != "station_id"}
    if blank:
        with pytest.raises(MissingTransitionInput):
            plan_transition(source, target, role, **blank)  # type: ignore[arg-type]


def test_archived_is_terminal() -> None:
    assert allowed_targets(S.ARCHIVED) == []


def test_allowed_targets_for_a_role() -> None:
    assert allowed_targets(S.FORWARDED) == [S.RECEIVED, S.RETURNED]
    assert allowed_targets(S.FORWARDED, Role.LAWYER) == []
    assert allowed_targets(S.CLOSED, Role.LAWYER) == [S.FOLLOWED_UP]
    assert allowed_targets(S.CLOSED, Role.SUPERVISOR) == [S.FOLLOWED_UP, S.ACCEPTED]


def test_statuses_have_chinese_labels_and_errors_are_bilingual() -> None:
    labels = [s.label for s in S]
    assert labels == ["已受理", "已转办", "已接收", "已退回", "办理中", "已办结", "已回访", "已归档"]
    with pytest.raises(InvalidTransition) as refused:
        plan_transition(S.ACCEPTED, S.ARCHIVED, Role.ADMIN)
    assert "已受理" in refused.value.message and "已归档" in refused.value.message
    assert "cannot go from accepted to archived" in refused.value.message
