"""Demo accounts and a demo duty roster for one-machine trials: one or more accounts per role, with
passwords printed by the run command. Refused in production mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts import create_user
from storage.tables import DutyShift, User
from ticketing.domain.roles import Role


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


#: The demo lawyers who get all-day shifts; both take the general lines, the other queues alternate.
DEMO_LAWYERS = ("lawyer1", "lawyer2")
SHARED_QUEUES = ("zonghe", "consult")


def demo_roster_queues(queues: list[str]) -> dict[str, list[str]]:
    """Which configured queues each demo lawyer sits in: every queue has someone on duty."""
    plan: dict[str, list[str]] = {name: [q for q in queues if q in SHARED_QUEUES] for name in DEMO_LAWYERS}
    others = [q for q in queues if q not in SHARED_QUEUES]
    for i, queue in enumerate(others):
        plan[DEMO_LAWYERS[i % len(DEMO_LAWYERS)]].append(queue)
    return plan


def load_demo_roster(session: Session, queues: list[str], first_day: date, days: int = 7) -> int:
    """Give the demo lawyers all-day shifts in the configured `queues` from `first_day` on, on days
    that have no shifts yet; returns how many shifts were added."""
    plan = demo_roster_queues(queues)
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(DEMO_LAWYERS)))}
    taken = set(session.scalars(select(DutyShift.day).where(DutyShift.day >= first_day)))
    added = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day in taken:
            continue
        for username, seated in plan.items():
            user = users.get(username)
            if user is None:
                continue
            session.add(
                DutyShift(
                    user_id=user.id,
                    day=day,
                    starts_at=time(0, 0),
                    ends_at=time(0, 0),
                    ends_next_day=True,
                    queues=seated,
                    languages=["普通话", "藏语"] if "tibetan" in seated else ["普通话"],
                    penalty=None,
                    source_file="demo",
                    source_row=0,
                    imported_by="demo",
                )
            )
            added += 1
    return added
