"""Staff accounts and their login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.stations import Station


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    #: The lawyer's SIP endpoint / queue member interface, e.g. PJSIP/1002.
    interface: Mapped[str | None] = mapped_column(String(64))
    #: The Asterisk node (HOTLINE_NODE) the lawyer's phone registers on: that node's bridge seats the
    #: lawyer in its queues and places the lawyer's calls. None: the install's first node (HOTLINE_NODES).
    node: Mapped[str | None] = mapped_column(String(40))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station | None] = relationship()


class AuthSession(Base):
    """A login. Only the token's SHA-256 is stored, so a database dump cannot be replayed."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
