"""Click-to-call for call-backs (回访): what the API needs from whatever can originate a call.

The API depends on `CallbackDialer`, one method, obtained through `hotline.api.deps.get_dialer`; the
bridge's action client satisfies it. Failures map to HTTP through `DIAL_ERRORS`, looked up along the
exception's class hierarchy, so a client's own exception classes are registered with one line each.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from hotline.bridge_client import BridgeError, BridgeInvalid, BridgeRefused, BridgeTimeout, BridgeUnavailable
from ticketing.domain.errors import InvalidInput


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


# The bridge's action client is the dialer; its errors are the dial errors.
DialError = BridgeError
DialerUnavailable = BridgeUnavailable
DialRefused = BridgeRefused
DialTimedOut = BridgeTimeout


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
    BridgeInvalid: (
        422,
        "dial_invalid",
        "号码或话机无效 / the number or the lawyer's phone is not valid for dialling",
    ),
}


def classify_dial_error(exc: BaseException) -> tuple[int, str, str] | None:
    """The registered (status, error id, message) of the nearest class of `exc`, or None."""
    for cls in type(exc).__mro__:
        if cls in DIAL_ERRORS:
            return DIAL_ERRORS[cls]
    return None


def check_dialable(number: str, pattern: str, what: str, **details: Any) -> None:
    """Refuse (422) a number outside the configured pattern before anything is dialled: the API must
    not become a way to place international or premium-rate calls on the bureau's lines."""
    if not re.fullmatch(pattern, number):
        raise InvalidInput(f"不允许拨打此号码 / {what} not allowed by the configured pattern", **details)
