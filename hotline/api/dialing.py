"""Placing a call from a console through the bridge (回访 tasks, a station calling the citizen about a
ticket): one helper, so both refuse the same way (503 no bridge, 502 refused, 504 no answer)."""

from __future__ import annotations

import logging
from typing import Any

from hotline.api.errors import BridgeFailed
from hotline.dialing import classify_dial_error

logger = logging.getLogger(__name__)


def originate(dialer: Any, interface: str, number: str, variables: dict[str, str], **details: Any) -> str:
    """Ring `interface`, then the citizen; a bridge or Asterisk refusal becomes a BridgeFailed the
    person at the console can act on."""
    try:
        return str(dialer.originate_callback(lawyer_interface=interface, number=number, variables=variables))
    except Exception as exc:
        mapped = classify_dial_error(exc)
        if mapped is None:
            raise
        status_code, error_id, message = mapped
        reason = str(getattr(exc, "reason", "") or exc)
        logger.warning("ticket %s: dial failed (%s): %s", variables.get("HOTLINE_TICKET"), error_id, reason)
        raise BridgeFailed(status_code, error_id, f"{message}: {reason}", reason=reason, **details) from None
