"""Who may see which ticket: station staff their station's subtree, lawyers the tickets assigned
to them, those they accepted and unassigned ones, supervisors and admins everything."""

from __future__ import annotations

from dataclasses import dataclass

from ticketing.domain.roles import Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: Role
    #: Materialised path of the user's station ("/1/7/"), for station staff.
    station_path: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


def station_in_scope(actor: Actor, ticket_station_path: str | None) -> bool:
    return (
        actor.station_path is not None
        and ticket_station_path is not None
        and ticket_station_path.startswith(actor.station_path)
    )


def can_see(
    actor: Actor, *, assigned_lawyer_id: int | None, station_path: str | None, created_by_id: int | None = None
) -> bool:
    if actor.sees_everything:
        return True
    if actor.role is Role.LAWYER:
        return assigned_lawyer_id in (None, actor.user_id) or created_by_id == actor.user_id
    if actor.role is Role.STATION_STAFF:
        return station_in_scope(actor, station_path)
    return False
