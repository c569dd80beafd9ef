"""API fixtures: a TestClient on the real database and Redis, and one signed-in user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from hotline.accounts import create_user
from hotline.app import create_app
from hotline.bootstrap import Context
from ticketing.domain.roles import Role

PASSWORD = "correct-horse-12348"
COUNTY = "512022"  # 乐至县 centre
PROVINCE = "510000"
OTHER_COUNTY = "510107"  # 武侯区, outside 乐至县


@dataclass
class Staff:
    username: str
    user_id: int
    headers: dict[str, str]


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def staff(context: Context, client: TestClient) -> dict[str, Staff]:
    """admin, supervisor, lawyer1, lawyer2, county (乐至县 staff), other (武侯区 staff)."""
    specs = [
        ("admin", Role.ADMIN, None),
        ("supervisor", Role.SUPERVISOR, None),
        ("lawyer1", Role.LAWYER, None),
        ("lawyer2", Role.LAWYER, None),
        ("county", Role.STATION_STAFF, COUNTY),
        ("other", Role.STATION_STAFF, OTHER_COUNTY),
    ]
    ids = {}
    with context.sessions.begin() as session:
        for username, role, station in specs:
            ids[username] = create_user(session, username, PASSWORD, role, station_code=station).id
    # A client object keeps cookies; clear them so only the explicit header identifies each user.
    people = {}
    for username, _, _ in specs:
        people[username] = Staff(username, ids[username], sign_in(client, username))
        client.cookies.clear()
    return people
