"""The router learns from the hotline's own decisions: people's categories on tickets and in
triage are recorded with who decided; `train` fits a model on them, activates it only when its
cross-validated figures beat the active one, and `rollback` returns to the one before. Empty
texts are refused everywhere. The labelled questions are written for the tests (synthetic)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.accounts import actor_for, create_user
from hotline.bootstrap import Context
from hotline.jobs.routing import route_ticket
from storage.tables import RoutingLabel, RoutingModel, Ticket, TicketEvent
from tests.integration.conftest import Staff
from tests.integration.test_cli import hotline, isolated_env  # noqa: F401 (fixture)
from tests.unit.routing.synthetic import questions
from ticketing.domain.errors import InvalidInput
from ticketing.domain.roles import Role
from ticketing.routing import versions
from ticketing.routing.labels import set_category
from ticketing.tickets import NewTicket, create_ticket

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


@pytest.fixture
def fresh_router(context: Context) -> Iterator[Context]:
    """The shared router decides with the rules again after the test, whatever it activated."""
    yield context
    context.router.use_model(None)
    context._model_checked = -1e9


def _ticket(context: Context, text: str, category: str | None = None, username: str = "lawyer9") -> int:
    with context.sessions.begin() as session:
        from storage.tables import User

        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(session, username, "correct-horse-12348", Role.LAWYER)
        ticket = create_ticket(
            session, actor_for(user), NewTicket("phone", text, category=category), context.policy, NOW
        )
        session.flush()
        return ticket.id


# -- decisions recorded ---------------------------------------------------------------------------


def test_corrections_and_confirmations_are_recorded_with_who_made_them(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    unsure = _ticket(context, "家里的事情想问问怎么办")
    sure = _ticket(context, "老板拖欠工资三个月不给，我要讨薪", username="lawyer1")
    for ticket_id in (unsure, sure):
        route_ticket(ticket_id, context)
    with context.sessions() as session:
        codes = {i: session.get(Ticket, i).code for i in (unsure, sure)}  # type: ignore[union-attr]
        suggested = session.get(Ticket, sure).routing["suggested_category"]  # type: ignore[union-attr]
    assert suggested == "劳动争议"
    # A supervisor corrects in the triage queue; a lawyer confirms on the ticket.
    corrected = client.post(
        f"/api/tickets/{codes[unsure]}/category",
        json={"category": "婚姻家庭", "subcategory": "离婚", "origin": "triage"},
        headers=staff["supervisor"].headers,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["category"] == "婚姻家庭"
    confirmed = client.post(
        f"/api/tickets/{codes[sure]}/category", json={"category": "劳动争议"}, headers=staff["lawyer1"].headers
    )
    assert confirmed.status_code == 200, confirmed.text
    with context.sessions() as session:
        labels = {label.ticket_id: label for label in session.scalars(select(RoutingLabel))}
        assert labels[unsure].kind == "corrected" and labels[unsure].origin == "triage"
        assert labels[unsure].user_id == staff["supervisor"].user_id and labels[unsure].role == "supervisor"
        assert labels[unsure].text == "家里的事情想问问怎么办" and labels[unsure].subcategory == "离婚"
        assert labels[sure].kind == "confirmed" and labels[sure].suggested == "劳动争议"
        assert labels[sure].user_id == staff["lawyer1"].user_id
        ticket = session.get(Ticket, unsure)
        assert ticket is not None and ticket.routing["needs_triage"] is False  # it left the triage queue
        event = session.scalar(
            select(TicketEvent).where(TicketEvent.ticket_id == unsure, TicketEvent.action == "categorise")
        )
        assert event is not None and event.data["kind"] == "corrected" and event.data["to"] == "婚姻家庭"


def test_bad_category_decisions_are_refused_and_record_nothing(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    ticket_id = _ticket(context, "借钱不还怎么办", username="lawyer1")
    with context.sessions() as session:
        code = session.get(Ticket, ticket_id).code  # type: ignore[union-attr]
    url = f"/api/tickets/{code}/category"
    unknown = client.post(url, json={"category": "火星"}, headers=staff["lawyer1"].headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["id"] == "invalid_input"
    wrong_sub = client.post(url, json={"category": "劳动争议", "subcategory": "离婚"}, headers=staff["lawyer1"].headers)
    assert wrong_sub.status_code == 422 and wrong_sub.json()["error"]["id"] == "invalid_input"
    for bad in ({"category": ""}, {"category": "婚姻家庭", "origin": "elsewhere"}, {}):
        response = client.post(url, json=bad, headers=staff["lawyer1"].headers)
        assert response.status_code == 422 and response.json()["error"]["id"] == "invalid_request", bad
    assert client.post(url, json={"category": "婚姻家庭"}, headers=staff["county"].headers).status_code == 403
    with context.sessions() as session:
        assert session.scalar(select(RoutingLabel)) is None


def test_a_category_chosen_at_intake_is_training_data(context: Context) -> None:
    ticket_id = _ticket(context, "离婚后孩子的抚养费怎么算", category="婚姻家庭")
    with context.sessions() as session:
        label = session.scalar(select(RoutingLabel))
        assert label is not None and label.ticket_id == ticket_id and label.kind == "intake"


def test_an_empty_ticket_waits_in_triage_with_the_reason(context: Context) -> None:
    ticket_id = _ticket(context, "。。。？？")
    route_ticket(ticket_id, context)
    with context.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.category is None
        assert ticket.routing["needs_triage"] is True and ticket.routing["rule"] == "nothing_to_classify"
        assert "nothing to classify" in ticket.routing["error"]


def test_the_api_and_cli_refuse_an_empty_text(client: TestClient, staff: dict[str, Staff]) -> None:
    response = client.post("/api/route", json={"text": "？？？。。。"}, headers=staff["lawyer1"].headers)
    assert response.status_code == 400 and response.json()["error"]["id"] == "nothing_to_classify"
    result = hotline("classify", "   ！！！ ")
    assert result.returncode == 2 and "nothing to classify" in result.stderr and "Traceback" not in result.stderr


# -- training, activation, rollback ---------------------------------------------------------------


def _label_tickets(context: Context, pairs: list[tuple[str, str]]) -> None:
    for text, category in pairs:
        _ticket(context, text, category=category)


def test_training_from_tickets_activates_only_improvements_and_rolls_back(fresh_router: Context) -> None:
    context = fresh_router
    pairs = questions(per_category=14, seed=3)
    _label_tickets(context, pairs)
    router = context.router
    with context.sessions.begin() as session:
        data = versions.from_tickets(session, router)
        assert len(data.examples) == len(pairs) and data.skipped == 0
        first = versions.train(session, data, "tickets", NOW, folds=3)
        # The rules cannot know the words of this set; the model learns them.
        assert first.activated, first.reason
        assert first.model.status == "active" and first.model.evaluation["compared_with"].startswith("keyword")
        figures = first.model.evaluation["figures"]
        assert figures["model"]["accuracy"][0] > figures["rules"]["accuracy"][0]
        first_version = first.model.version
    # A running service picks up the active model.
    context._model_checked = -1e9
    decision = context.router.route("请问，家里的蓝色雨伞和小猫咪的事情怎么办")
    assert decision.classification.model == first_version and decision.category == "婚姻家庭"
    # The same data again: not better than the active model, kept as a candidate.
    with context.sessions.begin() as session:
        same = versions.train(session, versions.from_tickets(session, router), "tickets", NOW + timedelta(seconds=1))
        assert not same.activated and same.model.status == "candidate"
        assert versions.active_row(session).version == first_version  # type: ignore[union-attr]
    # People correct the labels at random: the model trained on them is worse and stays a candidate.
    rng = random.Random(5)
    with context.sessions.begin() as session:
        supervisor = create_user(session, "boss", "correct-horse-12348", Role.SUPERVISOR)
        for ticket in session.scalars(select(Ticket)):
            category = rng.choice(["婚姻家庭", "劳动争议", "交通事故"])
            set_category(session, actor_for(supervisor), ticket, category, None, NOW, known={category})
    with context.sessions.begin() as session:
        noisy = versions.from_tickets(session, router)
        assert len(noisy.examples) == len(pairs)  # the latest decision per ticket, not one per label
        worse = versions.train(session, noisy, "tickets", NOW + timedelta(seconds=2), folds=3)
        assert not worse.activated and "not better" in worse.reason
        # By hand it can still be activated; rolling back returns to the first, then to the rules.
        versions.activate(session, worse.model, NOW)
        assert versions.active_row(session).version == worse.model.version  # type: ignore[union-attr]
        back = versions.rollback(session, NOW)
        assert back is not None and back.version == first_version
        assert versions.rollback(session, NOW) is None
        assert versions.active_row(session) is None
        with pytest.raises(InvalidInput):
            versions.rollback(session, NOW)
        statuses = [row.status for row in session.scalars(select(RoutingModel).order_by(RoutingModel.id))]
        assert statuses == ["retired", "candidate", "retired"]
    context._model_checked = -1e9
    assert context.router.model is None and context.router.route("离婚抚养费").classification.model is None


def test_training_refuses_too_little_data(context: Context) -> None:
    with context.sessions.begin() as session:
        data = versions.training_set(context.router, [("离婚", "婚姻家庭", True), ("欠薪", "劳动争议", True)])
        with pytest.raises(InvalidInput, match="too few"):
            versions.train(session, data, "tickets", NOW)
        assert session.scalar(select(RoutingModel)) is None


def test_router_commands_train_list_and_roll_back(tmp_path: Path, isolated_env: dict[str, str]) -> None:  # noqa: F811
    assert hotline("db", "upgrade", env=isolated_env).returncode == 0
    data = tmp_path / "labelled.jsonl"
    rows = [{"text": text, "label": category} for text, category in questions(per_category=10, seed=11)]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    trained = hotline("router", "train", "--jsonl", str(data), "--folds", "3", "--jobs", "1", env=isolated_env)
    assert trained.returncode == 0, trained.stderr
    assert "activated" in trained.stdout and "accuracy" in trained.stdout
    listed = hotline("router", "models", env=isolated_env)
    assert listed.returncode == 0 and "active" in listed.stdout and "labelled.jsonl" in listed.stdout
    classified = hotline("classify", "请问，家里的红色风筝和长颈鹿的事情怎么办", env=isolated_env)
    assert classified.returncode == 0 and "劳动争议" in classified.stdout and ", model " in classified.stdout
    back = hotline("router", "rollback", env=isolated_env)
    assert back.returncode == 0 and "keyword rules" in back.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "离婚"}\nnot json\n', encoding="utf-8")
    refused = hotline("router", "train", "--jsonl", str(bad), env=isolated_env)
    assert refused.returncode == 2 and "line 1" in refused.stderr and "Traceback" not in refused.stderr
