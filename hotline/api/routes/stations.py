"""The station directory and the ticket taxonomy (read-only; admins edit the files in config/)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hotline.api.deps import ContextDep, CurrentActor, SessionDep
from hotline.api.schemas import StationNode
from settings.files import CategoriesFile
from ticketing.stations import station_tree

router = APIRouter(prefix="/api", tags=["directory"])


@router.get(
    "/stations", response_model=list[StationNode], summary="Station hierarchy 省 → 市 → 县 → 乡镇 → 村 as a tree"
)
def stations(_actor: CurrentActor, session: SessionDep) -> list[dict[str, Any]]:
    return station_tree(session)


@router.get("/categories", response_model=CategoriesFile, summary="Ticket categories, subcategories and service lines")
def categories(_actor: CurrentActor, context: ContextDep) -> dict[str, Any]:
    return context.config.categories.model_dump()
