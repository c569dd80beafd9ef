"""Staff accounts: supervisors read them, admins create them."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select

from hotline import account_admin
from hotline.accounts import AccountError, InvalidAccount, create_user
from hotline.api.deps import ContextDep, SessionDep, require_roles
from hotline.api.errors import ACCOUNT_REFUSED, Conflict
from hotline.api.presenters import user_out
from hotline.api.schemas import UserCreate, UserOut
from storage.tables import User
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidInput
from ticketing.domain.roles import Role

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def list_users(
    _actor: Annotated[Actor, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))], session: SessionDep
) -> list[UserOut]:
    return [user_out(u) for u in session.scalars(select(User).order_by(User.username))]


@router.post("", status_code=201, response_model=UserOut, responses=ACCOUNT_REFUSED)
def add_user(
    body: UserCreate, _actor: Annotated[Actor, Depends(require_roles(Role.ADMIN))], session: SessionDep
) -> UserOut:
    try:
        user = create_user(
            session, body.username, body.password, body.role, body.display_name, body.station_code, body.interface
        )
    except InvalidAccount as exc:
        raise InvalidInput(str(exc), username=body.username) from None
    except AccountError as exc:
        raise Conflict(str(exc), username=body.username) from None
    session.commit()
    return user_out(user)


@router.delete(
    "/{username}/lockout",
    summary="Lift the sign-in lock of an account (failed attempts from any address are forgotten; audited)",
    responses={404: {"description": "no such user"}},
)
def unlock_user(
    username: Annotated[str, Path(max_length=64)],
    _actor: Annotated[Actor, Depends(require_roles(Role.ADMIN))],
    session: SessionDep,
    context: ContextDep,
) -> dict[str, object]:
    user = account_admin.find_user(session, username)
    cleared = account_admin.unlock(session, context.redis.client, _actor.user_id, user)  # audited, as /api/admin's
    session.commit()
    logger.info("sign-in lock of user %s lifted by user %d (%d addresses)", username, _actor.user_id, cleared)
    return {"username": username, "addresses_unlocked": cleared}
