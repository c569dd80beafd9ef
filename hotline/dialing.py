"""Click-to-call for call-backs (回访): what the API needs from whatever can originate a call.

The API depends on `CallbackDialer`, one method, obtained through `hotline.api.deps.get_dialer`; the
bridge's action client satisfies it. Failures map to HTTP through `DIAL_ERRORS`, looked up along the
exception's class hierarchy, so a client's own exception classes are registered with one line each.
"""

from __future__ import annotations

from typing import Protocol


class CallbackDialer(Protocol):
    def originate_callback(
        self,
        *,
        lawyer_interface: str,
        number: str,
        variables: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Ring the lawyer's interface, then the citizen's number; return the call's id (ActionID)."""
        ...


class DialError(Exception):
    """A call-back call could not be started; `reason` is the PBX's or the bridge's own words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DialerUnavailable(DialError):
    """No bridge is running, or none is connected to Asterisk."""


class DialRefused(DialError):
    """Asterisk refused the Originate (unknown endpoint, channel unavailable, ...)."""


class DialTimedOut(DialError):
    """The bridge or Asterisk did not answer in time."""


#: Exception class → (HTTP status, stable error id, what the user should know and do).
DIAL_ERRORS: dict[type[BaseException], tuple[int, str, str]] = {
    DialerUnavailable: (
        503,
        "dialer_unavailable",
        "呼叫服务暂不可用，请稍后再试或手动拨打 / the telephony bridge is not available; try again or dial by hand",
    ),
    DialTimedOut: (
        504,
        "dial_timeout",
        "呼叫服务无响应，请稍后再试 / the telephony bridge did not answer in time; try again",
    ),
    DialRefused: (
        502,
        "dial_refused",
        "电话系统拒绝了此次呼叫 / Asterisk refused the call",
    ),
}


def classify_dial_error(exc: BaseException) -> tuple[int, str, str] | None:
    """The registered (status, error id, message) of the nearest class of `exc`, or None."""
    for cls in type(exc).__mro__:
        if cls in DIAL_ERRORS:
            return DIAL_ERRORS[cls]
    return None


class NoDialer:
    """Stands in when this build has no bridge client: every dial is refused as unavailable."""

    def originate_callback(
        self,
        *,
        lawyer_interface: str,
        number: str,
        variables: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> str:
        raise DialerUnavailable("no bridge client in this build (hotline.bridge_client is missing)")
