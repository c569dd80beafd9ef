"""Domain errors. Each carries a stable id and details so the API can report them unchanged."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    error_id = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidTransition(DomainError):
    """A status change the lifecycle does not allow from the ticket's current status."""

    error_id = "invalid_transition"


class MissingTransitionInput(DomainError):
    """A status change that needs input (a station, a reason, a result) it was not given."""

    error_id = "missing_transition_input"


class TransitionNotPermitted(DomainError):
    """The actor's role may not make this status change."""

    error_id = "transition_not_permitted"


class NotFound(DomainError):
    """A referenced record does not exist (or is not visible to the actor)."""

    error_id = "not_found"


class InvalidReference(DomainError):
    """The request names a station, call or user that does not exist."""

    error_id = "invalid_reference"


class InvalidInput(DomainError):
    """Well-formed input that contradicts the rules (a satisfaction rating for an unanswered call)."""

    error_id = "invalid_input"


class AlreadyCompleted(DomainError):
    """The record is finished and takes no more changes (a completed call-back task)."""

    error_id = "already_completed"


class UnroutableText(DomainError):
    """A text to classify that is empty or has nothing to read in it (blanks, punctuation, fillers)."""

    error_id = "nothing_to_classify"

    def __init__(self) -> None:
        super().__init__("没有可分类的内容 / nothing to classify: the text is empty or has no words in it")
