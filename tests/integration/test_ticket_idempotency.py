"""Creates are safe to retry: an Idempotency-Key returns the ticket the first request made, and a
saved change is never answered with an error because of a read after the commit."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hotline.api.deps import get_session
from hotline.bootstrap import Context
from storage.tables import Ticket
from tests.integration.conftest import Staff

BODY = {"description": "老板拖欠工资", "caller_number": "13808081234", "category": "劳动争议"}


def tickets(context: Context) -> int:
    with context.sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_a_retry_with_the_same_key_returns_the_first_ticket(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    headers = {**staff["lawyer1"].headers, "Idempotency-Key": "c0ffee-0001"}
    first = client.post("/api/tickets", json=BODY, headers=headers)
    again = client.post("/api/tickets", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"] and again.headers["Idempotent-Replayed"] == "true"
    assert tickets(context) == 1
    # Keys belong to their user; no key means a new ticket each time.
    other = client.post(
        "/api/tickets", json=BODY, headers={**staff["lawyer2"].headers, "Idempotency-Key": "c0ffee-0001"}
    )
    assert other.json()["code"] != first.json()["code"]
    client.post("/api/tickets", json=BODY, headers=staff["lawyer1"].headers)
    assert tickets(context) == 3


def test_concurrent_retries_make_one_ticket(client: TestClient, staff: dict[str, Staff], context: Context) -> None:
    headers = {**staff["lawyer1"].headers, "Idempotency-Key": "same-click-twice"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: client.post("/api/tickets", json=BODY, headers=headers), range(6)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["code"] for a in answers}) == 1
    assert tickets(context) == 1


def test_a_malformed_key_is_422(client: TestClient, staff: dict[str, Staff]) -> None:
    headers = {**staff["lawyer1"].headers, "Idempotency-Key": "x" * 201}
    assert client.post("/api/tickets", json=BODY, headers=headers).status_code == 422


def test_a_saved_change_is_reported_as_saved_when_the_database_goes_away_after_the_commit(
    client: TestClient, staff: dict[str, Staff], context: Context
) -> None:
    def session_that_fails_after_commit() -> Iterator[Session]:
        with context.sessions() as session:
            committed = {"done": False}

            @event.listens_for(session, "after_commit")
            def _gone(_session: Session) -> None:
                committed["done"] = True

            @event.listens_for(session, "do_orm_execute")
            def _refuse(_state: object) -> None:
                if committed["done"]:
                    raise OperationalError("SELECT", {}, Exception("connection to server lost"))

            yield session

    client.app.dependency_overrides[get_session] = session_that_fails_after_commit  # type: ignore[attr-defined]
    try:
        created = client.post("/api/tickets", json=BODY, headers=staff["lawyer1"].headers)
        assert created.status_code == 201, created.text
        code = created.json()["code"]
        moved = client.post(
            f"/api/tickets/{code}/transitions",
            json={"to": "closed", "result": "已答复"},
            headers=staff["lawyer1"].headers,
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "closed"
    finally:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert tickets(context) == 1
