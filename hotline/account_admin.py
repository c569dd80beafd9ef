"""Account administration for admins (API, CLI and the /admin page): list, create, disable and
enable, reset a password, lift a sign-in lock, change role, station, name or phone. Every act is
written to `account_audit` with who did it, in the same transaction; disabling an account or
resetting its password ends its open sessions."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline import login_throttle
from hotline.accounts import AccountError, check_node, create_user
from hotline.security import hash_password
from storage.tables import AccountAudit, AuthSession, Station, User
from ticketing.domain.errors import InvalidReference, NotFound
from ticketing.domain.roles import Role


def audit(session: Session, actor_id: int | None, user: User, action: str, **details: Any) -> None:
    session.add(AccountAudit(at=datetime.now(UTC), actor_id=actor_id, user_id=user.id, action=action, details=details))


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在 / no user {username!r}", username=username)
    return user


def _end_sessions(session: Session, user: User) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def add_user(session: Session, actor_id: int | None, username: str, password: str, role: Role, **fields: Any) -> User:
    user = create_user(session, username, password, role, **fields)
    audit(session, actor_id, user, "user_create", role=role.value, station_id=user.station_id)
    return user


def change_user(
    session: Session,
    actor_id: int | None,
    user: User,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    station_code: str | None = None,
    interface: str | None = None,
    node: str | None = None,
    is_active: bool | None = None,
) -> list[str]:
    """Apply the given changes (None leaves a field; station_code, interface or node "" clears it);
    returns the audit actions written."""
    if actor_id == user.id and (is_active is False or (role is not None and role is not Role.ADMIN)):
        raise AccountError(
            "不能停用自己或取消自己的管理员角色 / you cannot disable yourself or drop your own admin role"
        )
    done: list[str] = []
    if display_name is not None and display_name != user.display_name:
        audit(session, actor_id, user, "name_change", before=user.display_name, after=display_name)
        user.display_name = display_name
        done.append("name_change")
    if station_code is not None:
        station = None
        if station_code:
            station = session.scalar(select(Station).where(Station.division_code == station_code))
            if station is None:
                raise InvalidReference(f"未知工作站 / unknown station code {station_code}", station_code=station_code)
        if (station.id if station else None) != user.station_id:
            audit(
                session, actor_id, user, "station_change", before=user.station_id, after=station.id if station else None
            )
            user.station = station
            done.append("station_change")
    if role is not None and role.value != user.role:
        audit(session, actor_id, user, "role_change", before=user.role, after=role.value)
        user.role = role.value
        done.append("role_change")
    if Role(user.role) is Role.STATION_STAFF and user.station is None and user.station_id is None:
        raise AccountError("工作站人员必须属于一个工作站 / station staff need a station")
    if interface is not None and (interface or None) != user.interface:
        if interface and not re.fullmatch(r"[A-Za-z]+/[A-Za-z0-9_.-]{1,40}", interface):
            raise AccountError(f"话机格式应为 PJSIP/1001 / interface {interface!r} is not like PJSIP/1001")
        audit(session, actor_id, user, "interface_change", before=user.interface, after=interface or None)
        user.interface = interface or None
        done.append("interface_change")
    if node is not None and (node or None) != user.node:
        check_node(node)
        audit(session, actor_id, user, "node_change", before=user.node, after=node or None)
        user.node = node or None
        done.append("node_change")
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        action = "user_enable" if is_active else "user_disable"
        audit(session, actor_id, user, action)
        if not is_active:
            _end_sessions(session, user)
        done.append(action)
    session.flush()
    return done


def reset_password(session: Session, actor_id: int | None, user: User, password: str | None = None) -> str:
    """Set `password`, or a new random one, which is returned (shown once to the admin); the user's
    open sessions end."""
    new = password or secrets.token_urlsafe(12)
    try:
        user.password_hash = hash_password(new)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    _end_sessions(session, user)
    audit(session, actor_id, user, "password_reset", generated=password is None)
    return new


def unlock(session: Session, connection: redis.Redis, actor_id: int | None, user: User) -> int:
    """Forget the user's failed sign-ins from every address; returns how many locks there were."""
    cleared = login_throttle.unlock(connection, user.username)
    audit(session, actor_id, user, "user_unlock", cleared=cleared)
    return cleared


def user_row(user: User, locked: bool | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": Role(user.role).label,
        "station_id": user.station_id,
        "station_name": user.station.name if user.station else None,
        "station_code": user.station.division_code if user.station else None,
        "interface": user.interface,
        "node": user.node,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "locked": locked,
    }
