"""The IVR's database work (sync SQLAlchemy; the server runs these in worker threads).

- who the caller is (green-channel groups, an open ticket and its lawyer),
- the session row in ivr_sessions and the path copied onto the Call row when it exists,
- a voicemail's ticket with its transcription job in the outbox, in one transaction,
- the survey score on the session, the call and the call's ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ivr.session import CallerProfile, IvrSessionState
from storage.dialect import upsert
from storage.tables import Call, Caller, IvrSession, Ticket, User, ticket_calls
from ticketing.domain.access import Actor
from ticketing.domain.events import RecordingFinished
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.policy import TicketPolicy
from ticketing.domain.roles import Role
from ticketing.events import emit
from ticketing.tickets import NewTicket, create_ticket

logger = logging.getLogger(__name__)

#: The service account tickets made by the IVR are created by; it cannot sign in.
IVR_ACCOUNT = "ivr"
#: Tickets in these states are settled: a caller with only such tickets is not a repeat caller.
SETTLED = (TicketStatus.CLOSED.value, TicketStatus.FOLLOWED_UP.value, TicketStatus.ARCHIVED.value)


def caller_profiles(sessions: sessionmaker[Session], numbers: Collection[str]) -> dict[str, CallerProfile]:
    """For each known number: green-channel groups and the most recent unsettled ticket with its
    lawyer's phone. One query for all the numbers."""
    open_ticket = and_(Ticket.caller_id == Caller.id, Ticket.status.not_in(SETTLED))
    query = (
        select(Caller.number, Caller.groups, Ticket.code, User.interface)
        .outerjoin(Ticket, open_ticket)
        .outerjoin(User, User.id == Ticket.assigned_lawyer_id)
        .where(Caller.number.in_(list(numbers)))
        .order_by(Caller.number, Ticket.updated_at.desc())
    )
    profiles: dict[str, CallerProfile] = {}
    with sessions() as session:
        for row in session.execute(query):
            if row.number not in profiles:  # the first row is the most recent ticket
                profiles[row.number] = CallerProfile(list(row.groups or []), row.code, row.interface)
    return profiles


def session_values(state: IvrSessionState) -> dict[str, Any]:
    return {
        "uniqueid": state.uniqueid,
        "channel": state.channel,
        "caller_number": state.caller_number,
        "started_at": state.started_at,
        "ended_at": state.ended_at,
        "path": list(state.path),
        "exit": state.exit,
        "queue": state.queue,
        "language": state.language,
        "flags": list(state.flags),
        "priority": state.priority,
        "recording_path": state.recording_path,
        "ticket_code": state.ticket_code,
    }


def save_sessions(sessions: sessionmaker[Session], states: Sequence[IvrSessionState]) -> None:
    """Write (or rewrite) the sessions' rows and copy each path onto its Call row if there is one,
    in one transaction and a few statements however many sessions there are."""
    if not states:
        return
    rows = [session_values(state) for state in states]
    with sessions.begin() as session:
        statement = upsert(session, IvrSession)
        updates = {key: statement.excluded[key] for key in rows[0] if key not in ("uniqueid", "survey_score")}
        session.execute(statement.on_conflict_do_update(index_elements=["uniqueid"], set_=updates), rows)
        session.execute(
            update(Call.__table__).where(Call.__table__.c.linkedid == bindparam("linked")),
            [{"linked": row["uniqueid"], "ivr_path": row["path"]} for row in rows],
        )


def ivr_actor(session: Session) -> Actor:
    """The IVR's own account (created on first use, inactive, no usable password)."""
    user = session.scalar(select(User).where(User.username == IVR_ACCOUNT))
    if user is None:
        user = User(
            username=IVR_ACCOUNT,
            display_name="语音导航 IVR",
            role=Role.SUPERVISOR.value,
            password_hash="!no-login",
            is_active=False,
        )
        session.add(user)
        session.flush()
    return Actor(user_id=user.id, role=Role.SUPERVISOR)


@dataclass(frozen=True)
class Voicemail:
    linkedid: str
    caller_number: str | None
    recording_path: str
    seconds: float
    queue: str | None
    topic: str | None
    service_line: str | None
    green: str | None
    queue_label: str | None = None


def create_voicemail_ticket(
    sessions: sessionmaker[Session], policy: TicketPolicy, message: Voicemail, now: datetime
) -> str:
    """The ticket (已受理, channel voicemail) and its transcription job, committed together."""
    with sessions.begin() as session:
        call = session.scalar(select(Call).where(Call.linkedid == message.linkedid))
        if call is not None:
            call.recording_paths = [*(call.recording_paths or []), message.recording_path]
        what = message.topic or message.queue_label or message.queue or "法律咨询"
        ticket = create_ticket(
            session,
            ivr_actor(session),
            NewTicket(
                channel="voicemail",
                description=f"语音留言（{what}，{message.seconds:.0f} 秒），内容待转写。",
                caller_number=message.caller_number,
                category=message.topic,
                service_line=message.service_line,
                flags=["green_channel"] if message.green else [],
                call_linkedids=[message.linkedid] if call is not None else [],
            ),
            policy,
            now,
        )
        emit(session, RecordingFinished(message.recording_path, message.linkedid, ticket.code))
        logger.info("voicemail of call %s: ticket %s, transcription queued", message.linkedid, ticket.code)
        return ticket.code


def store_survey_score(
    sessions: sessionmaker[Session], uniqueid: str, linkedid: str, score: int, caller_number: str | None, now: datetime
) -> str | None:
    """The score on the IVR session, on the Call and on the Call's ticket; returns the ticket code.
    A lawyer saving the same ticket at that moment wins the optimistic lock; the score is then retried."""
    for attempt in range(3):
        try:
            return _store_survey_score(sessions, uniqueid, linkedid, score, caller_number, now)
        except StaleDataError:
            logger.info("ticket of call %s changed while storing the survey score; retry %d", linkedid, attempt + 1)
    return _store_survey_score(sessions, uniqueid, linkedid, score, caller_number, now)


def _store_survey_score(
    sessions: sessionmaker[Session], uniqueid: str, linkedid: str, score: int, caller_number: str | None, now: datetime
) -> str | None:
    with sessions.begin() as session:
        row = session.scalar(select(IvrSession).where(IvrSession.uniqueid.in_([linkedid, uniqueid])))
        if row is None:
            # The caller reached the survey without our menus (e.g. a call-back): the row still
            # carries the score for the bridge to copy onto the Call it writes later.
            row = IvrSession(uniqueid=linkedid, caller_number=caller_number, started_at=now, ended_at=now)
            row.exit, row.path, row.flags = "survey", [], []
            session.add(row)
        row.survey_score = score
        session.execute(update(Call).where(Call.linkedid == linkedid).values(survey_score=score))
        ticket = session.scalar(
            select(Ticket)
            .join(ticket_calls, ticket_calls.c.ticket_id == Ticket.id)
            .join(Call, Call.id == ticket_calls.c.call_id)
            .where(Call.linkedid == linkedid)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        if ticket is None:
            return None
        ticket.satisfaction = str(score)
        return ticket.code
