"""Sign in and out. Tokens go in `Authorization: Bearer` or the session cookie (consoles)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis
from fastapi import APIRouter, Request, Response

from hotline.accounts import authenticate, close_session, open_session
from hotline.api.deps import SESSION_COOKIE, ContextDep, CurrentUser, SessionDep, request_token
from hotline.api.errors import NotAuthenticated, TooManyAttempts
from hotline.api.presenters import user_out
from hotline.api.schemas import LoginRequest, LoginResponse, UserOut

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/auth", tags=["auth"])

#: Failed logins allowed per username and client address within the window.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 15 * 60


def _failures_key(request: Request, username: str) -> str:
    client = request.client.host if request.client else "-"
    return f"hotline:login-failures:{client}:{username}"


@router.post("/login", response_model=LoginResponse)
def login(
    body: LoginRequest, request: Request, response: Response, session: SessionDep, context: ContextDep
) -> LoginResponse:
    key = _failures_key(request, body.username)
    try:
        failures = int(context.redis.client.get(key) or 0)
    except redis.RedisError:
        failures = 0  # the limiter fails open: a Redis outage must not lock every lawyer out
        logger.warning("login limiter unavailable (Redis); continuing without it")
    if failures >= MAX_FAILURES:
        raise TooManyAttempts(
            "登录失败次数过多，请15分钟后再试 / too many failed sign-ins; try again in 15 minutes",
            retry_after_s=FAILURE_WINDOW_S,
        )
    user = authenticate(session, body.username, body.password)
    if user is None:
        try:
            with context.redis.client.pipeline() as pipe:
                pipe.incr(key).expire(key, FAILURE_WINDOW_S).execute()
        except redis.RedisError:
            pass
        raise NotAuthenticated("用户名或密码错误 / wrong username or password")
    now = datetime.now(UTC)
    lifetime = timedelta(hours=context.settings.session_hours)
    token = open_session(session, user, now, lifetime)
    session.commit()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=context.settings.env == "production",
    )
    logger.info("user %s signed in", user.id)
    return LoginResponse(token=token, expires_at=now + lifetime, user=user_out(user))


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep) -> Response:
    token = request_token(request)
    if token is None:
        raise NotAuthenticated("未登录 / not signed in")
    close_session(session, token, datetime.now(UTC))
    session.commit()
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
