"""Staff accounts and logins."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.security import (
    DUMMY_HASH,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from settings.env import NODE_NAME
from storage.tables import AuthSession, Station, User
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidReference
from ticketing.domain.roles import Role

logger = logging.getLogger(__name__)


class AccountError(ValueError):
    pass


class InvalidAccount(AccountError):
    """A username outside the rules or a password that is too easy to guess."""


#: zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" (~10^10 guesses).
MIN_PASSWORD_SCORE = 3


def check_new_account(username: str, password: str, display_name: str | None = None) -> None:
    """Raise InvalidAccount for a username outside USERNAME_PATTERN or a weak password (zxcvbn, which
    also knows the user's own names)."""
    from zxcvbn import zxcvbn

    if not re.fullmatch(USERNAME_PATTERN, username):
        raise InvalidAccount(
            f"用户名只能包含字母、数字和 _ . -，2–64 个字符 / username {username!r} must match {USERNAME_PATTERN}"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符 / password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    verdict = zxcvbn(password[:100], user_inputs=[username, display_name or "", "12348", "hotline"])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        feedback = verdict["feedback"]
        advice = " ".join([feedback.get("warning") or "", *feedback.get("suggestions", [])]).strip()
        raise InvalidAccount(f"密码太容易被猜到 / password too easy to guess: {advice or 'use a longer passphrase'}")


def check_node(node: str | None) -> None:
    """A lawyer's node is an Asterisk node's name (HOTLINE_NODE of its bridge), or empty for the
    install's first node."""
    if node and not re.fullmatch(NODE_NAME, node):
        raise AccountError(f"节点名称无效 / node {node!r} is not like pbx-a (letters, digits, _ . -)")


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    station_code: str | None = None,
    interface: str | None = None,
    node: str | None = None,
) -> User:
    check_new_account(username, password, display_name)
    check_node(node)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"用户名已存在 / user {username!r} already exists")
    station = None
    if station_code:
        station = session.scalar(select(Station).where(Station.division_code == station_code))
        if station is None:
            raise InvalidReference(f"未知工作站 / unknown station code {station_code}", station_code=station_code)
    if role is Role.STATION_STAFF and station is None:
        raise AccountError("工作站人员必须属于一个工作站 / station staff need a station (--station CODE)")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        password_hash=password_hash,
        station=station,
        interface=interface,
        node=node or None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)  # same cost as a real check: no username oracle
        return None
    return user if verify_password(user.password_hash, password) else None


def open_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    token = new_token()
    session.add(AuthSession(token_hash=token_digest(token), user_id=user.id, created_at=now, expires_at=now + lifetime))
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    login = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_digest(token)))
    if login is None or login.revoked_at is not None or login.expires_at <= now or not login.user.is_active:
        return None
    return login.user


def close_session(session: Session, token: str, now: datetime) -> None:
    login = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_digest(token)))
    if login is not None and login.revoked_at is None:
        login.revoked_at = now


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), station_path=user.station.path if user.station else None)
