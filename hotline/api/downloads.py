"""A report as JSON, or downloaded as CSV or XLSX; every download is audited (who, which report, filters)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from hotline.reports.tables import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Table, to_csv, to_xlsx
from ticketing.domain.access import Actor
from ticketing.statistics import record_export

Format = Literal["json", "csv", "xlsx"]

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]")


def deliver(
    session: Session,
    actor: Actor,
    report: str,
    fmt: Format,
    params: dict[str, Any],
    body: dict[str, Any],
    tables: list[Table],
    *,
    audit: bool | None = None,
) -> Response:
    """The report as JSON or a CSV/XLSX download. Downloads are audited (`audit`: by default
    every format but plain JSON)."""
    if audit is None:
        audit = fmt != "json"
    if audit:
        rows = sum(len(t.rows) for t in tables)
        record_export(session, actor, report, fmt, params, rows, datetime.now(UTC))
        session.commit()
    stem = _UNSAFE_FILENAME.sub("", "-".join([report, *(str(v) for v in params.values() if v is not None)]))
    if fmt == "json":
        headers = {"Content-Disposition": f'attachment; filename="{stem}.json"'} if audit else None
        return JSONResponse(body, headers=headers)
    if fmt == "csv":
        content, media = to_csv(tables), CSV_MEDIA_TYPE
    else:
        content, media = to_xlsx(tables), XLSX_MEDIA_TYPE
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})
