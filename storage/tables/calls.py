"""Callers and calls (one row per inbound or outbound call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base, utcnow
from storage.tables.people import User


class Caller(Base):
    __tablename__ = "callers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    #: Green-channel groups (绿色通道): migrant_worker, elderly, disabled, minor, veteran.
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Home area as a division code when known (from a ticket or the number's region).
    division_code: Mapped[str | None] = mapped_column(String(12))
    call_count: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(Base):
    __tablename__ = "calls"
    #: Two Asterisk nodes may hand out the same Linkedid; the node that saw the call tells them apart.
    __table_args__ = (UniqueConstraint("node", "linkedid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Asterisk's Linkedid groups every channel of one call; with `node` it is the call's identity.
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    #: The Asterisk node (HOTLINE_NODE of its bridge) the call went through.
    node: Mapped[str] = mapped_column(String(40), default="default", server_default="default")
    uniqueid: Mapped[str | None] = mapped_column(String(64))
    #: inbound / callback / transfer
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id"), index=True)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    agent_interface: Mapped[str | None] = mapped_column(String(64))
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime | None]
    #: Entered the queue. A closed-hours call has its arrival here and the queue it chose in `queue`,
    #: so it is counted apart in the same period and queue.
    offered_at: Mapped[datetime | None] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wait_seconds: Mapped[float | None]
    talk_seconds: Mapped[float | None]
    wrapup_seconds: Mapped[float | None]
    #: answered / abandoned / ring_no_answer_abandoned / closed_hours / failed / in_progress
    outcome: Mapped[str] = mapped_column(String(32), default="in_progress", index=True)
    in_hours: Mapped[bool] = mapped_column(default=True)
    #: [{"node": "main", "key": "1", "seconds": 4.2}, ...]
    ivr_path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recording_paths: Mapped[list[str]] = mapped_column(JSON, default=list)
    transcript: Mapped[str | None] = mapped_column(Text)
    survey_score: Mapped[int | None]
    #: How the record was completed when events were missed: None (live events), "resync", ...
    reconciled_by: Mapped[str | None] = mapped_column(String(32))
    #: False when the call ended while the bridge could not see it: `ended_at` is then the last
    #: moment it was known to be up, and `talk_seconds` is unknown (kept out of AHT).
    end_seen: Mapped[bool] = mapped_column(default=True, server_default=true())

    caller: Mapped[Caller | None] = relationship()
    lawyer: Mapped[User | None] = relationship()


class CallStatsHourly(Base):
    """Queue counts per hour (UTC) and queue, kept by the bridge as it writes calls, so period KPIs
    read a few thousand rows instead of scanning every call. Counts use the configured SL threshold
    `threshold_s`; a request for another threshold is answered from the calls themselves."""

    __tablename__ = "call_stats_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    threshold_s: Mapped[int]
    offered: Mapped[int]
    answered: Mapped[int]
    abandoned: Mapped[int]
    answered_within_t: Mapped[int]
    abandoned_within_t: Mapped[int]
    answered_wait_total: Mapped[float]
    handle_total: Mapped[float]
    #: Answered calls whose talk time is known (AHT's denominator; handle_total sums over these).
    handled: Mapped[int] = mapped_column(default=0, server_default="0")
    longest_wait: Mapped[float | None]
    closed_hours: Mapped[int]
