"""Display names for every page: GET /api/labels (hotline/labels.py is where they are written)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hotline.api.deps import ContextDep, CurrentActor
from hotline.asr.model import asr_status
from hotline.labels import labels_of

router = APIRouter(prefix="/api", tags=["labels"])


@router.get("/labels", summary="Chinese display names of every code the pages show, and the service's mode")
def labels(_actor: CurrentActor, context: ContextDep) -> dict[str, Any]:
    asr = asr_status(context.settings)
    return {
        "labels": labels_of(context),
        "simulated": context.settings.demo_mode,
        # Without a speech model the consoles say that transcription is off instead of waiting for it.
        "transcription": {"available": asr["available"], "status": asr["status"]},
    }
