"""Logging set-up. Phone numbers are personal data: every log line is masked before it is written."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from datetime import UTC, datetime

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


class JsonFormatter(logging.Formatter):
    """One JSON object per line for a central collector: time (UTC, ISO 8601), level, logger,
    message, host, node, pid and the traceback when there is one. The message is already masked."""

    def __init__(self) -> None:
        super().__init__()
        self.host = socket.gethostname()
        self.node = os.environ.get("HOTLINE_NODE", "default")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "host": self.host,
            "node": self.node,
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = mask_numbers(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", log_format: str | None = None) -> None:
    """Text lines, or JSON lines with HOTLINE_LOG_FORMAT=json (read here: logging starts before settings)."""
    log_format = log_format or os.environ.get("HOTLINE_LOG_FORMAT", "text")
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhoneNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces each of its plugins at INFO on every start; only its migrations matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
