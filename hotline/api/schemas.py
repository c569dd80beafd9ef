"""Request and response bodies. Limits here are what keeps hostile input out of the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from hotline.security import USERNAME_PATTERN
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role

MAX_ID = 2**31 - 1


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps both backends alike.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


def _text(max_length: int, min_length: int = 0) -> Any:
    constraints = StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    return Annotated[str, constraints, AfterValidator(_no_nul)]


Name = _text(64, 1)
OptionalName = _text(64)
Label = _text(32)
Note = _text(2_000)
RequiredNote = _text(2_000, 1)
LongText = _text(10_000)
Description = _text(10_000, 1)


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PhoneNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?\d{3,20}$")]
Flag = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
Linkedid = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z._-]{1,64}$")]
Channel = Literal["phone", "voicemail", "callback_request", "web", "walk_in", "letter"]
Priority = Literal["normal", "high", "urgent"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Body):
    username: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    station_id: int | None
    interface: str | None


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class UserCreate(Body):
    username: Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    role: Role
    display_name: Name | None = None
    station_code: Annotated[str, StringConstraints(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")] | None = None
    interface: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+/[A-Za-z0-9_.-]{1,40}$")] | None = None
    #: The Asterisk node the lawyer's phone registers on (HOTLINE_NODES); omitted: the first node.
    node: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")] | None = None


class TicketCreate(Body):
    channel: Channel = "phone"
    description: Description
    caller_number: PhoneNumber | None = None
    caller_name: OptionalName | None = None
    category: Label | None = None
    subcategory: Label | None = None
    service_line: Label | None = None
    priority: Priority = "normal"
    flags: list[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]] = Field(
        default_factory=list, max_length=16
    )
    call_linkedids: list[Linkedid] = Field(default_factory=list, max_length=20)
    assigned_lawyer_id: Id | None = None


class CategoryRequest(Body):
    category: Name
    subcategory: Label | None = None
    #: Where the person decided: on the ticket, or in the triage queue.
    origin: Literal["ticket", "triage"] = "ticket"


class TransitionRequest(Body):
    to: TicketStatus
    station_id: Id | None = None
    reason: Note | None = None
    result: LongText | None = None
    note: Note | None = None


class TicketEventOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    #: Who did it (display name); None for the system (router, escalation sweep).
    actor_name: str | None = None
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    data: dict[str, Any]


class TicketOut(BaseModel):
    code: str
    channel: str
    status: TicketStatus
    status_label: str
    caller_number: str | None
    caller_name: str | None
    description: str
    transcript: str | None
    category: str | None
    subcategory: str | None
    service_line: str | None
    priority: str
    flags: list[str]
    station_id: int | None
    station_name: str | None
    accept_due_at: datetime | None
    finish_due_at: datetime | None
    assigned_lawyer_id: int | None
    created_by_id: int | None
    result: str | None
    created_at: datetime
    updated_at: datetime
    allowed_next: list[TicketStatus]


class RecordingOut(BaseModel):
    """One recording this user may hear: played from `url`, never named by its file's path."""

    call_id: int
    linkedid: str
    index: int
    url: str
    direction: str
    started_at: datetime | None
    talk_seconds: float | None
    lawyer_name: str | None


class TicketDetail(TicketOut):
    events: list[TicketEventOut]
    call_linkedids: list[str]
    callback_due: date | None = None
    #: Recordings of the ticket's calls (and its call-backs' calls) that this user may hear.
    recordings: list[RecordingOut] = []
    #: How many more there are that this user may not hear (shown as a note, never as a player).
    recordings_withheld: int = 0
    #: Call-back (回访) tasks with every attempt.
    callbacks: list[FollowUpTaskOut] = []


class Page(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[TicketOut]


class KpiRow(BaseModel):
    """One bucket (hour, day, month or the whole period) of one queue or all: counts and ratios."""

    bucket: str | None
    queue: str | None
    offered: int
    answered: int
    abandoned: int
    answered_within_t: int
    abandoned_within_t: int
    answered_wait_total: float
    handle_total: float
    longest_wait: float | None
    closed_hours: int
    connection_rate: float | None
    service_level: float | None
    service_level_2: float | None
    asa: float | None
    abandon_rate: float | None
    aht: float | None


class KpiReport(BaseModel):
    start: str
    end: str
    threshold_s: int
    granularity: str
    rows: list[KpiRow]


class FollowUpSlaFigures(BaseModel):
    rate: float | None
    closed: int
    on_time: int
    late: int
    open_in_time: int
    open_overdue: int


class LawyerFollowUpSla(FollowUpSlaFigures):
    lawyer_id: int | None


class FollowUpSlaReport(FollowUpSlaFigures):
    start: str
    end: str
    working_days: int
    definition: str
    by_lawyer: list[LawyerFollowUpSla]


class LapseOut(BaseModel):
    kind: str
    label: str
    deadline: datetime
    overdue_hours: float


class EscalationOut(BaseModel):
    id: int
    kind: str
    deadline: datetime
    at: datetime
    station_id: int
    escalated_to_id: int
    escalated_to: str
    levels_up: int


class ForwardedWorkOut(TicketOut):
    overdue: list[LapseOut]
    escalations: list[EscalationOut]


class WorkPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[ForwardedWorkOut]


class FollowUpAttemptOut(BaseModel):
    at: datetime
    outcome: str
    outcome_label: str
    lawyer_id: int | None
    lawyer_name: str | None = None
    linkedid: str | None
    call_id: int | None
    note: str | None


class FollowUpTaskOut(BaseModel):
    """A follow-up (回访) task: the ticket it is for, its due date, state and attempts."""

    id: int
    ticket_code: str
    ticket_status: str
    category: str | None
    caller_name: str | None
    caller_number: str | None
    result: str | None
    due_date: date
    overdue: bool
    status: str
    status_label: str
    assigned_lawyer_id: int | None
    assigned_lawyer_name: str | None = None
    satisfaction: str | None
    satisfaction_label: str | None
    comment: str | None
    created_at: datetime
    completed_at: datetime | None
    attempts: list[FollowUpAttemptOut]


class FollowUpTaskPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[FollowUpTaskOut]


class ExportOut(BaseModel):
    """One report download: who, when, which report and filters, how many rows."""

    id: int
    at: datetime
    user_id: int
    username: str
    report: str
    format: str
    params: dict[str, Any]
    rows: int


class PersonalDataViewOut(BaseModel):
    """One look at a caller's personal data: who, when, whose (subject, caller), which fields."""

    id: int
    at: datetime
    user_id: int
    username: str
    kind: str
    subject: str
    caller_id: int | None
    fields: list[str]
    details: dict[str, Any]


class StationNode(BaseModel):
    """A station with the stations below it (省 → 市 → 县 → 乡镇 → 村)."""

    id: int
    division_code: str
    name: str
    level: str
    kind: str
    phone: str | None
    address: str | None
    services: list[str]
    children: list[StationNode]


TicketDetail.model_rebuild()  # it names FollowUpTaskOut, written further down
