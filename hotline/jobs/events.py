"""The one map from a domain event to the job it starts, with the job's queue and rq options.

The core records events (ticketing/domain/events.py) and never names a job; the outbox relay looks
each committed event up here. A new event gets its job by a line in `EVENT_JOBS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hotline.jobs import routing, tickets, transcription
from ticketing.domain.events import (
    RecordingFinished,
    TicketEscalated,
    TicketEventRecorded,
    TicketNeedsRouting,
)


@dataclass(frozen=True)
class JobSpec:
    function: Callable[..., Any]
    queue: str = "default"
    #: rq options for jobs that need more than rq's defaults (a long timeout, bounded retries, which
    #: are also how rq runs a job again whose worker died mid-job).
    options: Mapping[str, Any] = field(default_factory=dict)


EVENT_JOBS: dict[str, JobSpec] = {
    TicketEventRecorded.name: JobSpec(tickets.announce_ticket_event),
    TicketNeedsRouting.name: JobSpec(routing.route_ticket),
    TicketEscalated.name: JobSpec(tickets.announce_escalation),
    RecordingFinished.name: JobSpec(
        transcription.transcribe_recording, transcription.ASR_QUEUE, transcription.ENQUEUE_OPTIONS
    ),
}

#: Outbox rows written before events had names hold the job's old dotted path instead.
LEGACY_JOB_PATHS: dict[str, str] = {
    "hotline.jobs.announce_ticket_event": TicketEventRecorded.name,
    "hotline.jobs_routing.route_ticket": TicketNeedsRouting.name,
    "hotline.jobs.announce_escalation": TicketEscalated.name,
    "hotline.asr.jobs.transcribe_recording": RecordingFinished.name,
}


def job_for(event_name: str) -> JobSpec | None:
    """The job an outbox row's event starts, or None for a name nobody knows."""
    return EVENT_JOBS.get(LEGACY_JOB_PATHS.get(event_name, event_name))
