"""Operations records: which run of each periodic job has been claimed, by whom and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables.base import Base, utcnow


class PeriodicRun(Base):
    """One row per run of a periodic job (its name and time slot). The worker that inserts the row
    runs the job; a second copy of the same run (two schedulers during a failover, a retried job)
    finds the row and does nothing, so each run happens once across the cluster."""

    __tablename__ = "periodic_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    #: The scheduler instance (host:pid:token) that enqueued the run.
    scheduled_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: "ok", or the error's first line.
    result: Mapped[str | None] = mapped_column(String(300))
