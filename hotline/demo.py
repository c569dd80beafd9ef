"""Demo accounts for one-machine trials: one or more per role, with passwords printed by the run
command. Refused in production mode."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts import create_user
from ticketing.domain.roles import Role
from ticketing.orm import User


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    display_name: str
    station_code: str | None = None
    interface: str | None = None


DEMO_USERS = (
    DemoUser("admin", "demo-admin-12348", Role.ADMIN, "系统管理员"),
    DemoUser("supervisor", "demo-supervisor-12348", Role.SUPERVISOR, "王班长"),
    DemoUser("lawyer1", "demo-lawyer-12348", Role.LAWYER, "张律师", interface="PJSIP/1001"),
    DemoUser("lawyer2", "demo-lawyer-12348", Role.LAWYER, "李律师", interface="PJSIP/1002"),
    DemoUser("county", "demo-station-12348", Role.STATION_STAFF, "乐至县中心 陈主任", station_code="512022"),
    DemoUser("township", "demo-station-12348", Role.STATION_STAFF, "石佛镇工作站 刘站长", station_code="512022101"),
)


def load_demo_users(session: Session) -> list[DemoUser]:
    """Create the demo accounts that do not exist yet; returns those created."""
    existing = set(session.scalars(select(User.username)))
    created = []
    for demo in DEMO_USERS:
        if demo.username in existing:
            continue
        create_user(
            session, demo.username, demo.password, demo.role, demo.display_name, demo.station_code, demo.interface
        )
        created.append(demo)
    return created
