"""The station directory: import the hierarchy from configuration, read it back as a tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import Station


class StationSpec(Protocol):
    code: str
    name: str
    level: str
    kind: str
    phone: str | None
    address: str | None
    services: list[str]

    @property
    def children(self) -> Sequence[StationSpec]: ...


def import_stations(session: Session, root: StationSpec) -> dict[str, int]:
    """Create or update every station under `root`, matched by division code. Stations missing from
    the file are kept (tickets refer to them); returns counts of created and updated rows."""
    existing = {s.division_code: s for s in session.scalars(select(Station))}
    counts = {"created": 0, "updated": 0}

    def visit(spec: StationSpec, parent: Station | None) -> None:
        station = existing.get(spec.code)
        if station is None:
            station = Station(division_code=spec.code, path="")
            session.add(station)
            counts["created"] += 1
        else:
            counts["updated"] += 1
        station.name = spec.name
        station.level = spec.level
        station.kind = spec.kind
        station.phone = spec.phone
        station.address = spec.address
        station.services = list(spec.services)
        station.parent = parent
        session.flush()  # assigns the id the path is made of
        station.path = f"{parent.path if parent else '/'}{station.id}/"
        for child in spec.children:
            visit(child, station)

    visit(root, None)
    return counts


def station_tree(session: Session) -> list[dict[str, Any]]:
    """All stations as nested dicts, roots first, children ordered by division code."""
    stations = session.scalars(select(Station).order_by(Station.division_code)).all()
    nodes: dict[int, dict[str, Any]] = {
        s.id: {
            "id": s.id,
            "division_code": s.division_code,
            "name": s.name,
            "level": s.level,
            "kind": s.kind,
            "phone": s.phone,
            "address": s.address,
            "services": s.services,
            "children": [],
        }
        for s in stations
    }
    roots = []
    for s in stations:
        (nodes[s.parent_id]["children"] if s.parent_id in nodes else roots).append(nodes[s.id])
    return roots
