"""Duty shifts (值班表): one row per lawyer, date and shift, imported from roster files."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.people import User


class DutyShift(Base):
    """Times are local wall-clock times of the hotline (Asia/Shanghai). A shift belongs to the date it
    starts on; `ends_next_day` marks one ending at 24:00 or after midnight (a night shift)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (UniqueConstraint("user_id", "day", "starts_at", name="uq_duty_shifts_user_day_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    ends_next_day: Mapped[bool] = mapped_column(default=False)
    #: Asterisk queue names (config/service_hours.yaml), e.g. ["consult", "family"].
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Queue member penalty (lower rings first); None leaves Asterisk's default.
    penalty: Mapped[int | None]
    source_file: Mapped[str] = mapped_column(String(200))
    source_row: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Username of who imported it through the API, or "cli:<login>" from the command line.
    imported_by: Mapped[str] = mapped_column(String(80))

    user: Mapped[User] = relationship()
