"""Who and what a roster names: lawyers (by username or display name) and queues (by name or label).

Standard library only; the store builds these from the users table and config/service_hours.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline.rosters.cells import CellError


@dataclass(frozen=True)
class Lawyer:
    id: int
    username: str
    display_name: str
    interface: str | None
    active: bool = True


class LawyerDirectory:
    def __init__(self, lawyers: Iterable[Lawyer]) -> None:
        self.lawyers = list(lawyers)
        self._by_username = {lawyer.username.casefold(): lawyer for lawyer in self.lawyers}
        self._by_name: dict[str, list[Lawyer]] = {}
        for lawyer in self.lawyers:
            self._by_name.setdefault(lawyer.display_name.strip(), []).append(lawyer)

    def resolve(self, text: str) -> Lawyer:
        lawyer = self._by_username.get(text.casefold())
        if lawyer is None:
            named = self._by_name.get(text, [])
            if len(named) > 1:
                usernames = ", ".join(sorted(item.username for item in named))
                raise CellError(f"{text!r} is the name of several lawyers ({usernames}): write the username")
            if not named:
                raise CellError(f"no lawyer {text!r}: write the username or display name of a user with role lawyer")
            lawyer = named[0]
        if not lawyer.active:
            raise CellError(f"lawyer {lawyer.username} ({lawyer.display_name}) is deactivated")
        if not lawyer.interface:
            raise CellError(
                f"lawyer {lawyer.username} has no phone interface (e.g. PJSIP/1001); an admin sets it on the account"
            )
        return lawyer

    @property
    def interfaces(self) -> frozenset[str]:
        """Every lawyer interface, active or not: the members the roster manages in Asterisk."""
        return frozenset(lawyer.interface for lawyer in self.lawyers if lawyer.interface)


@dataclass(frozen=True)
class QueueRef:
    name: str
    label: str


class QueueDirectory:
    def __init__(self, queues: Iterable[QueueRef]) -> None:
        self.queues = list(queues)
        self._lookup: dict[str, str] = {}
        for queue in self.queues:
            self._lookup[queue.name.casefold()] = queue.name
            self._lookup[queue.label.strip().casefold()] = queue.name
            # "劳动争议/讨薪" is also known by each of its parts, as rosters write them.
            for part in queue.label.split("/"):
                self._lookup.setdefault(part.strip().casefold(), queue.name)

    def resolve(self, text: str) -> str:
        name = self._lookup.get(text.strip().casefold())
        if name is None:
            known = "、".join(f"{q.label} ({q.name})" for q in self.queues)
            raise CellError(f"unknown queue or skill {text!r}; known: {known}")
        return name

    @property
    def names(self) -> list[str]:
        return [queue.name for queue in self.queues]
