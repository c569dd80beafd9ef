"""Lawyers, queues and roster files for the roster tests."""

from __future__ import annotations

import io
from datetime import date, time
from typing import Any

from hotline.ami.frames import AmiMessage
from hotline.rosters.lookups import Lawyer, LawyerDirectory, QueueDirectory, QueueRef
from hotline.rosters.model import Shift
from hotline.rosters.reader import read_roster
from hotline.rosters.validate import Validation, validate_table
from tests.traces import AMI

LAWYERS = LawyerDirectory(
    [
        Lawyer(1, "lawyer1", "张律师", "PJSIP/1001"),
        Lawyer(2, "lawyer2", "李律师", "PJSIP/1002"),
        Lawyer(3, "wang1", "王律师", "PJSIP/1003"),
        Lawyer(4, "wang2", "王律师", "PJSIP/1004"),
        Lawyer(5, "gone", "赵律师", "PJSIP/1005", active=False),
        Lawyer(6, "nophone", "孙律师", None),
    ]
)
QUEUES = QueueDirectory(
    [
        QueueRef("general", "综合咨询"),
        QueueRef("consult", "法律咨询"),
        QueueRef("legal-aid", "法律援助"),
        QueueRef("family", "婚姻家庭"),
        QueueRef("labour", "劳动争议"),
        QueueRef("tibetan", "藏语服务"),
    ]
)
HEADER = "律师,日期,开始,结束,队列/技能,语言\n"


def validate_csv(text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Validation:
    return validate_table(read_roster(text.encode(encoding), name), LAWYERS, QUEUES)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def shift(
    lawyer_id: int,
    day: date,
    start: str,
    end: str,
    queues: tuple[str, ...] = ("consult",),
    next_day: bool = False,
    penalty: int | None = None,
) -> Shift:
    names = {1: ("lawyer1", "张律师"), 2: ("lawyer2", "李律师"), 3: ("wang1", "王律师")}
    username, name = names.get(lawyer_id, (f"l{lawyer_id}", f"律师{lawyer_id}"))
    return Shift(
        lawyer_id=lawyer_id,
        interface=f"PJSIP/{1000 + lawyer_id}",
        member_name=name,
        day=day,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        ends_next_day=next_day,
        queues=queues,
        penalty=penalty,
        username=username,
    )


TRACES = AMI


def trace_messages(name: str) -> list[AmiMessage]:
    """Every message Asterisk sent in a recorded trace, in order."""
    from hotline.ami.frames import FrameDecoder

    return [f for f in FrameDecoder().feed((TRACES / f"{name}.ami").read_bytes()) if isinstance(f, AmiMessage)]


def trace_actions(name: str) -> list[AmiMessage]:
    """Every action the recorder sent in a trace, in order."""
    from hotline.ami.frames import CLIENT_KINDS, FrameDecoder

    decoder = FrameDecoder(kinds=CLIENT_KINDS, expect_banner=False)
    return [f for f in decoder.feed((TRACES / f"{name}.actions").read_bytes()) if isinstance(f, AmiMessage)]
