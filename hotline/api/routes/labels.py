"""Display names for every page: GET /api/labels (hotline/labels.py is where they are written)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from hotline.api.deps import ContextDep, CurrentActor
from hotline.asr.model import asr_status
from hotline.bootstrap import Context
from hotline.config.files import HotlineConfig
from hotline.labels import all_labels

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["labels"])


_BUILT: dict[tuple[Path, int], dict[str, dict[str, str]]] = {}


def _ivr_menus(config_dir: Path, config: HotlineConfig) -> Any:
    from ivr.menu_checks import load_ivr_config

    try:
        return load_ivr_config(config_dir, config)
    except Exception as exc:  # the IVR's own start-up reports it; the labels fall back to node names
        logger.warning("IVR menus not readable for their labels: %s", exc)
        return None


def labels_of(context: Context) -> dict[str, dict[str, str]]:
    """All labels, built once per configuration (the files are read at start-up)."""
    key = (context.settings.config_dir, id(context.config))
    if key not in _BUILT:
        _BUILT[key] = all_labels(context.config, _ivr_menus(context.settings.config_dir, context.config))
    return _BUILT[key]


@router.get("/labels", summary="Chinese display names of every code the pages show, and the service's mode")
def labels(_actor: CurrentActor, context: ContextDep) -> dict[str, Any]:
    asr = asr_status(context.settings)
    return {
        "labels": labels_of(context),
        "simulated": context.settings.demo_mode,
        # Without a speech model the consoles say that transcription is off instead of waiting for it.
        "transcription": {"available": asr["available"], "status": asr["status"]},
    }
