"""Ticket codes (一案一码): `12348-YYYYMMDD-NNNNNN`, unique, readable aloud over the phone."""

from __future__ import annotations

import re
from datetime import date

PREFIX = "12348"
_PATTERN = re.compile(r"^12348-(\d{8})-(\d{6,})$")


def format_code(day: date, serial: int) -> str:
    if serial < 1:
        raise ValueError(f"ticket serial must be positive, got {serial}")
    return f"{PREFIX}-{day:%Y%m%d}-{serial:06d}"


def is_ticket_code(text: str) -> bool:
    return _PATTERN.match(text) is not None
