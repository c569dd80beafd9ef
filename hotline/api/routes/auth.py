"""Sign in and out. Tokens go in `Authorization: Bearer` or the session cookie (consoles)."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

import redis
from fastapi import APIRouter, Request, Response

from hotline.accounts import authenticate, close_session, open_session
from hotline.api.deps import SESSION_COOKIE, ContextDep, CurrentUser, SessionDep, request_token
from hotline.api.errors import NotAuthenticated, ServiceUnavailable, TooManyAttempts
from hotline.api.presenters import user_out
from hotline.api.schemas import LoginRequest, LoginResponse, UserOut
from hotline.login_throttle import FAILURE_WINDOW_S, MAX_FAILURES, count_attempt, failures_key

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many attempts from this address for this username"},
        503: {"description": "the sign-in limiter (Redis) is unavailable; sign-in is refused until it is back"},
    },
)
def login(
    body: LoginRequest, request: Request, response: Response, session: SessionDep, context: ContextDep
) -> LoginResponse:
    # The client address is the connection's; behind a reverse proxy the server takes it from
    # X-Forwarded-For only when the proxy is listed in HOTLINE_TRUSTED_PROXIES (hotline.cli.serve).
    key = failures_key(request.client.host if request.client else "-", body.username)
    try:
        attempts = count_attempt(context.redis.client, key)
    except redis.RedisError:
        # Fail closed: without the limiter a password could be guessed at full speed.
        logger.warning("login limiter unavailable (Redis); sign-in refused until it is back")
        raise ServiceUnavailable(
            "登录暂不可用（限流服务不可用），请稍后重试 / sign-in unavailable while Redis is down; retry shortly",
            component="redis",
        ) from None
    if attempts > MAX_FAILURES:
        raise TooManyAttempts(
            "登录失败次数过多，请15分钟后再试 / too many failed sign-ins; try again in 15 minutes",
            retry_after_s=FAILURE_WINDOW_S,
        )
    user = authenticate(session, body.username, body.password)
    if user is None:
        raise NotAuthenticated("用户名或密码错误 / wrong username or password")
    with contextlib.suppress(redis.RedisError):
        context.redis.client.delete(key)  # a success forgives the earlier failures
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
