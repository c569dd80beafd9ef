"""User management for admins (GET/POST /api/admin/users, PATCH, password reset, unlock) and the
audit of it (GET /api/admin/audit). The service functions are in hotline/account_admin.py, shared
with `hotline user …` on the command line."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline import account_admin, login_throttle
from hotline.accounts import AccountError
from hotline.api.deps import ContextDep, SessionDep, require_roles
from hotline.api.errors import ACCOUNT_REFUSED, Conflict
from hotline.api.schemas import Body, Name, UserCreate
from storage.tables import AccountAudit, User
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role

router = APIRouter(prefix="/api/admin", tags=["admin"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{2,64}$")]


@router.get("/users", summary="Every staff account with its role, station, phone, state and sign-in lock")
def users(_actor: Admin, session: SessionDep, context: ContextDep) -> list[dict[str, Any]]:
    found = session.scalars(select(User).options(selectinload(User.station)).order_by(User.role, User.username))
    client = context.redis.client
    return [account_admin.user_row(u, login_throttle.is_locked(client, u.username)) for u in found]


@router.post("/users", status_code=201, summary="Create an account (audited)", responses=ACCOUNT_REFUSED)
def create(body: UserCreate, actor: Admin, session: SessionDep) -> dict[str, Any]:
    try:
        user = account_admin.add_user(
            session, actor.user_id, body.username, body.password, body.role,
            display_name=body.display_name, station_code=body.station_code, interface=body.interface,
            node=body.node,
        )  # fmt: skip
    except AccountError as exc:
        raise Conflict(str(exc), username=body.username) from None
    session.commit()
    return account_admin.user_row(user, False)


class AccountChange(Body):
    display_name: Name | None = None
    role: Role | None = None
    #: Division code of the station; "" takes the user off any station.
    station_code: Annotated[str, StringConstraints(pattern=r"^(\d{6}(\d{3}(\d{3})?)?)?$")] | None = None
    #: Phone interface such as PJSIP/1001; "" clears it.
    interface: Annotated[str, StringConstraints(pattern=r"^([A-Za-z]+/[A-Za-z0-9_.-]{1,40})?$")] | None = None
    #: Asterisk node of the lawyer's phone (HOTLINE_NODES); "" puts the lawyer on the first node.
    node: Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9_.-]{1,40})?$")] | None = None
    is_active: bool | None = None


@router.patch(
    "/users/{username}",
    summary="Change role, station, name, phone or node; disable or enable (audited)",
    responses=ACCOUNT_REFUSED,
)
def change(username: Username, body: AccountChange, actor: Admin, session: SessionDep) -> dict[str, Any]:
    user = account_admin.find_user(session, username)
    try:
        done = account_admin.change_user(session, actor.user_id, user, **body.model_dump(exclude_none=True))
    except AccountError as exc:
        raise Conflict(str(exc), username=username) from None
    session.commit()
    return {**account_admin.user_row(user), "changes": done}


class PasswordReset(Body):
    #: The new password; omitted: a random one is made and returned once.
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)] | None = None


@router.post(
    "/users/{username}/password",
    summary="Reset a password (a random one when none is given); ends sessions",
    responses=ACCOUNT_REFUSED,
)
def password(username: Username, body: PasswordReset, actor: Admin, session: SessionDep) -> dict[str, Any]:
    user = account_admin.find_user(session, username)
    try:
        new = account_admin.reset_password(session, actor.user_id, user, body.password)
    except AccountError as exc:
        raise Conflict(str(exc), username=username) from None
    session.commit()
    return {"username": username, "password": None if body.password else new, "sessions_ended": True}


@router.post("/users/{username}/unlock", summary="Lift the sign-in lock after too many failed attempts (audited)")
def unlock(username: Username, actor: Admin, session: SessionDep, context: ContextDep) -> dict[str, Any]:
    user = account_admin.find_user(session, username)
    cleared = account_admin.unlock(session, context.redis.client, actor.user_id, user)
    session.commit()
    return {"username": username, "locks_cleared": cleared}


@router.get("/audit", summary="Account administration, newest first: who did what to whose account")
def audit(
    _actor: Admin, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    rows = session.scalars(select(AccountAudit).order_by(AccountAudit.id.desc()).limit(limit)).all()
    names = dict(session.execute(select(User.id, User.display_name)).all())
    return [
        {"at": r.at, "actor": names.get(r.actor_id) if r.actor_id else "命令行", "user": names.get(r.user_id),
         "action": r.action, "details": r.details}
        for r in rows
    ]  # fmt: skip
