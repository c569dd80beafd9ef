"""FastAPI dependencies: the context, a database session per request, the signed-in user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from hotline.accounts import actor_for, user_for_token
from hotline.api.errors import Forbidden, NotAuthenticated
from hotline.bootstrap import Context
from hotline.bridge_client import RoutedBridgeClient
from hotline.dialing import CallbackDialer
from hotline.rosters.store import lawyer_node_of
from storage.tables import User
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role

SESSION_COOKIE = "hotline_session"


def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


ContextDep = Annotated[Context, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    with context.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)


def get_current_user(request: Request, session: SessionDep) -> User:
    token = request_token(request)
    if not token:
        raise NotAuthenticated("请先登录 / sign in first (POST /api/auth/login)")
    user = user_for_token(session, token, datetime.now(UTC))
    if user is None:
        raise NotAuthenticated("登录已过期或无效 / session expired or invalid; sign in again")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_actor(user: CurrentUser) -> Actor:
    return actor_for(user)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    def check(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise Forbidden(
                f"角色「{actor.role.label}」无权访问 / role {actor.role} may not do this",
                roles=[r.value for r in roles],
            )
        return actor

    return check


def routed_bridge(context: Context) -> RoutedBridgeClient:
    """The bridges' action client: a lawyer's calls and pauses go to the node of the lawyer's phone.

    With HOTLINE_NODES set, a lawyer without a node of their own belongs to the first node; a
    one-node install without it keeps finding the phone's node from the live state."""
    home = context.settings.home_node if context.settings.nodes else None

    def home_of(interface: str) -> str | None:
        with context.sessions() as session:
            return lawyer_node_of(session, interface, home)

    return RoutedBridgeClient(context.redis.client, home_of)


def get_dialer(context: ContextDep) -> CallbackDialer:
    """What originates call-back calls: the bridge's action client."""
    return routed_bridge(context)


DialerDep = Annotated[CallbackDialer, Depends(get_dialer)]


# Who may call a route: one alias per group of roles, used by every router.
Supervising = Annotated[Actor, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
Desk = Annotated[Actor, Depends(require_roles(Role.LAWYER, Role.SUPERVISOR, Role.ADMIN))]
Lawyer = Annotated[Actor, Depends(require_roles(Role.LAWYER))]
StationSide = Annotated[Actor, Depends(require_roles(Role.STATION_STAFF, Role.SUPERVISOR, Role.ADMIN))]

# Parameters more than one router takes.
TicketCode = Annotated[
    str, Path(pattern=r"^12348-\d{8}-\d{6,}$", description="ticket code, e.g. 12348-20261123-000042")
]
QueueName = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
