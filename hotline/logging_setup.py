"""Logging set-up. Phone numbers are personal data: every log line is masked before it is written."""

from __future__ import annotations

import logging
import re

_MOBILE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# Area codes 010 and 02x have three digits, all others four (0971 西宁, 0832 资阳).
_LANDLINE = re.compile(r"(?<!\d)(0(?:[12]\d|[3-9]\d{2})-?)(\d{3,4})(\d{4})(?!\d)")


def mask_numbers(text: str) -> str:
    text = _MOBILE.sub(lambda m: f"{m[1] or ''}{m[2]}****{m[4]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}****{m[3]}", text)


class MaskPhoneNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhoneNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces each of its plugins at INFO on every start; only its migrations matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
