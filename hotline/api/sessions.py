"""Who is signed in, for pages and long-lived streams that must not hold a database session open.

FastAPI's request-scoped session (hotline.api.deps) lives as long as the response; a page redirect
needs no error body and a server-sent-events stream lasts for hours, so both look the user up in a
short session of their own here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request

from hotline.accounts import actor_for, user_for_token
from hotline.api.deps import request_token
from hotline.bootstrap import Context
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    username: str
    display_name: str
    interface: str | None

    @property
    def role(self) -> Role:
        return self.actor.role


def signed_in(request: Request, context: Context) -> SignedIn | None:
    """The user of the request's token or session cookie, or None (no token, expired, revoked)."""
    token = request_token(request)
    if not token:
        return None
    with context.sessions() as session:
        user = user_for_token(session, token, datetime.now(UTC))
        if user is None:
            return None
        return SignedIn(actor_for(user), user.username, user.display_name, user.interface)


#: Where each role lands after signing in.
HOME = {
    Role.LAWYER: "/console",
    Role.SUPERVISOR: "/dashboard",
    Role.ADMIN: "/dashboard",
    Role.STATION_STAFF: "/station",
}


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to after signing in; anything else (//host, schemes) is dropped."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 for c in target) or len(target) > 300:
        return None
    return target
