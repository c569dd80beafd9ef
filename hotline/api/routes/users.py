"""Staff accounts: supervisors read them, admins create them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from hotline.accounts import AccountError, create_user
from hotline.api.deps import SessionDep, require_roles
from hotline.api.errors import Conflict
from hotline.api.presenters import user_out
from hotline.api.schemas import UserCreate, UserOut
from storage.tables import User
from ticketing.domain.access import Actor
from ticketing.domain.roles import Role

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def list_users(
    _actor: Annotated[Actor, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))], session: SessionDep
) -> list[UserOut]:
    return [user_out(u) for u in session.scalars(select(User).order_by(User.username))]


@router.post("", status_code=201, response_model=UserOut)
def add_user(
    body: UserCreate, _actor: Annotated[Actor, Depends(require_roles(Role.ADMIN))], session: SessionDep
) -> UserOut:
    try:
        user = create_user(
            session, body.username, body.password, body.role, body.display_name, body.station_code, body.interface
        )
    except AccountError as exc:
        raise Conflict(str(exc), username=body.username) from None
    session.commit()
    return user_out(user)
