"""Recording playback: a call's recording as WAV for those who may hear it, each listen audited.

The file's path never leaves the server; the URL names the call and the recording's place in it.
Players seek with `Range`; a recording is decoded to PCM WAV when it is not already
(hotline.recordings).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from hotline.api.deps import ContextDep, CurrentActor, CurrentUser, SessionDep
from hotline.api.errors import Forbidden, RangeNotSatisfiable, UnreadableMedia
from hotline.consoles.access import may_hear
from hotline.consoles.audit import record_view
from hotline.recordings import MEDIA_TYPE, RecordingUnreadable, inside_recordings, playable_wav
from storage.tables import Call
from ticketing.domain.errors import NotFound
from ticketing.domain.roles import sees_in_full

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/calls", tags=["recordings"])

CallId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Index = Annotated[int, Path(ge=0, le=99, description="the recording's place among the call's recordings, from 0")]
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def recording_url(call_id: int, index: int) -> str:
    return f"/api/calls/{call_id}/recordings/{index}"


@router.get(
    "/{call_id}/recordings/{index}",
    response_class=Response,
    summary="Play a call's recording (audio/wav; Range supported); roles that may not hear it get 403",
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "the whole recording"},
        206: {"content": {MEDIA_TYPE: {}}, "description": "the part asked for with Range"},
        403: {"description": "your role may not hear this call (a lawyer hears only calls put through to them)"},
        404: {"description": "no such call or recording, or the file is gone (past retention)"},
        416: {"description": "the Range lies outside the recording"},
        422: {"description": "the file is not audio this service can decode"},
    },
)
def play(
    call_id: CallId,
    index: Index,
    actor: CurrentActor,
    user: CurrentUser,
    session: SessionDep,
    context: ContextDep,
    range_: Annotated[str | None, Header(alias="Range", max_length=100)] = None,
) -> Response:
    if not sees_in_full(actor.role, own=True):  # station staff never hear recordings, of any call
        raise Forbidden("您的角色不能收听录音 / your role may not hear recordings", call_id=call_id)
    call = session.get(Call, call_id)
    if call is None or index >= len(call.recording_paths or []):
        raise NotFound(f"录音不存在 / call {call_id} has no recording {index}", call_id=call_id, index=index)
    if not may_hear(actor.role, call, user):
        raise Forbidden("这不是您接听的通话，不能收听录音 / this call was not put through to you", call_id=call_id)
    path = inside_recordings(call.recording_paths[index], context.settings.recordings_dir)
    gone = NotFound(
        "录音文件已不在（可能已过保存期限）/ the recording is no longer stored here (past retention?)",
        call_id=call_id,
        index=index,
    )
    if path is None:
        logger.warning("call %s recording %d is outside HOTLINE_RECORDINGS_DIR; not served", call.linkedid, index)
        raise gone
    try:
        audio = playable_wav(path)
    except FileNotFoundError:
        raise gone from None
    except RecordingUnreadable as exc:
        logger.warning("call %s recording %d not decodable: %s", call.linkedid, index, exc)
        raise UnreadableMedia("录音文件无法解码 / the recording is not audio this service can decode") from None
    if record_view(
        session, actor, "recording", call.linkedid, caller_id=call.caller_id, fields=["recording"],
        details={"call_id": call.id, "index": index},
    ):  # fmt: skip
        logger.info("call %s recording %d heard by user %d", call.linkedid, index, actor.user_id)
    session.commit()
    return _ranged(audio, range_)


def _ranged(audio: bytes, asked: str | None) -> Response:
    """The whole recording, or the one byte range asked for (several ranges get the whole file)."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store", "Content-Disposition": "inline"}
    size = len(audio)
    match = _RANGE.match(asked.strip()) if asked else None
    if match is None or match.group(1) == match.group(2) == "":
        return Response(audio, media_type=MEDIA_TYPE, headers=headers)
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(
            f"请求的范围超出录音长度 / range {asked} is outside the recording ({size} bytes)", size=size
        )
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(audio[start : end + 1], status_code=206, media_type=MEDIA_TYPE, headers=headers)
