"""API errors: an HTTP status, a stable error id, a bilingual message and a details dict.

Every error leaves as `{"error": {"id", "message", "details"}}`, including validation errors and
unexpected failures, so clients handle one shape.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.api.body_limit import BodyTooLarge
from hotline.bridge_client import BridgeError, BridgeInvalid, BridgeRefused, BridgeTimeout
from ticketing.domain.errors import (
    AlreadyCompleted,
    DomainError,
    InvalidInput,
    InvalidReference,
    InvalidTransition,
    MissingTransitionInput,
    NotFound,
    TransitionNotPermitted,
)

logger = logging.getLogger(__name__)


class ApiError(DomainError):
    """An error only the HTTP layer raises; it carries its own status."""

    status = 400
    error_id = "bad_request"


class NotAuthenticated(ApiError):
    status = 401
    error_id = "not_authenticated"


class Forbidden(ApiError):
    status = 403
    error_id = "forbidden"


class Conflict(ApiError):
    status = 409
    error_id = "conflict"


class ServiceUnavailable(ApiError):
    """A component the request needs (Redis, the telephony bridge) is down; retrying later can work."""

    status = 503
    error_id = "service_unavailable"


class UnreadableMedia(ApiError):
    """A stored file (a recording) that is there but cannot be decoded."""

    status = 422
    error_id = "unreadable_media"


class RangeNotSatisfiable(ApiError):
    status = 416
    error_id = "range_not_satisfiable"


class TooManyAttempts(ApiError):
    status = 429
    error_id = "too_many_attempts"


class PayloadTooLarge(ApiError):
    status = 413
    error_id = "payload_too_large"


DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidTransition: 409,
    TransitionNotPermitted: 403,
    MissingTransitionInput: 422,
    NotFound: 404,
    InvalidReference: 422,
    InvalidInput: 422,
    AlreadyCompleted: 409,
}


def error_body(status: int, error_id: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"id": error_id, "message": message, "details": details or {}}},
    )


#: What a request that met a dependency outage gets: 503, the component, and that a retry will do.
UNAVAILABLE = {
    "database": "数据库暂时不可用，请稍后重试 / the database is unavailable; retry shortly",
    "redis": "实时服务（Redis）暂时不可用，请稍后重试 / Redis is unavailable; retry shortly",
}
RETRY_AFTER_S = 5


def unavailable(component: str) -> JSONResponse:
    response = error_body(503, "service_unavailable", UNAVAILABLE[component], {"component": component})
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def is_outage(exc: BaseException) -> str | None:
    """The component whose outage `exc` is ("database", "redis"), or None for any other error.

    Connections come back by themselves (the pool pings before use, redis-py reconnects), so a
    later request succeeds once the component is back.
    """
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | redis.BusyLoadingError):
        return "redis"
    if isinstance(exc, redis.ResponseError) and str(exc).startswith(("LOADING", "MISCONF", "READONLY")):
        return "redis"
    if isinstance(exc, PoolTimeout):
        return "database"
    if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_connection_error(exc)):
        return "database"
    return None


def _is_connection_error(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower()
    # PostgreSQL unreachable / shutting down; SQLite busy beyond its timeout.
    return any(
        marker in text
        for marker in (
            "connection",
            "server closed",
            "terminating",
            "shutting down",
            "starting up",
            "database is locked",
            "could not",
            "timeout",
        )
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_body(exc.status, exc.error_id, exc.message, exc.details)

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return error_body(DOMAIN_STATUS.get(type(exc), 400), exc.error_id, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(err.get("type") == "missing" and tuple(err.get("loc", ())) == ("body",) for err in exc.errors()):
            return error_body(
                422,
                "invalid_request",
                "请求体为空，请发送 JSON / the request body is empty; send a JSON object",
                {"problems": [{"field": "body", "problem": "empty body", "type": "missing"}]},
            )
        broken = next((err for err in exc.errors() if err.get("type") == "json_invalid"), None)
        if broken is not None:
            where = broken.get("loc", ("body", 0))[-1]
            reason = (broken.get("ctx") or {}).get("error", "")
            return error_body(
                422,
                "invalid_request",
                f"请求体不是有效的 JSON（第 {where} 个字符附近：{reason}） / "
                f"the request body is not valid JSON (near character {where}: {reason})",
                {
                    "problems": [
                        {
                            "field": "body",
                            "problem": f"invalid JSON near character {where}: {reason}",
                            "type": "json_invalid",
                        }
                    ]
                },
            )
        problems = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())),
                "problem": err.get("msg", ""),
                "type": err.get("type"),
            }
            for err in exc.errors()
        ]
        return error_body(422, "invalid_request", "请求无效 / invalid request", {"problems": _json_safe(problems)})

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return error_body(
            409, "concurrent_change", "工单已被他人修改，请刷新后重试 / the ticket was changed by someone else; reload"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error_id = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        details = {"limit": exc.limit} if isinstance(exc, BodyTooLarge) else None
        return error_body(exc.status_code, error_id, str(exc.detail), details)

    async def _dependency(request: Request, exc: Exception) -> JSONResponse:
        component = is_outage(exc)
        if component is None:
            logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
            return error_body(500, "internal_error", "服务器内部错误 / internal error; it has been logged")
        logger.warning("%s unavailable on %s %s: %s", component, request.method, request.url.path, exc)
        return unavailable(component)

    # Registered per class (not under Exception): these answer without re-raising into the server.
    for kind in (redis.RedisError, DBAPIError, PoolTimeout):
        app.add_exception_handler(kind, _dependency)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_body(500, "internal_error", "服务器内部错误 / internal error; it has been logged")


class BridgeFailed(ApiError):
    def __init__(self, status: int, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.status = status
        self.error_id = error_id


#: `responses=` of the routes that create or change accounts (AccountError, hotline.accounts).
ACCOUNT_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "refused: the username exists, the password is too weak, or the change would lock admins out"}
}
#: What an operation that goes through the telephony bridge may answer besides its own (bridge_failed):
#: `responses=` of every such route, so the schema says it.
BRIDGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"description": "the bridge found the request invalid (bridge_invalid; details say why)"},
    502: {"description": "Asterisk refused (bridge_refused); the message has its words"},
    503: {"description": "no telephony bridge is running, or the database or Redis is down"},
    504: {"description": "the bridge did not answer in time (bridge_timeout)"},
}


def bridge_failed(exc: BridgeError, what: str) -> BridgeFailed:
    """A bridge error as an API error a lawyer can act on."""
    if isinstance(exc, BridgeTimeout):
        return BridgeFailed(504, "bridge_timeout", f"{what}：电话系统无响应，请重试 / no answer in time: {exc.reason}")
    if isinstance(exc, BridgeRefused):
        return BridgeFailed(502, "bridge_refused", f"{what}：电话系统拒绝 / Asterisk refused: {exc.reason}")
    if isinstance(exc, BridgeInvalid):
        return BridgeFailed(422, "bridge_invalid", f"{what}：请求无效 / invalid: {exc.reason}")
    return BridgeFailed(
        503, "bridge_unavailable", f"{what}：呼叫服务不可用，请稍后再试 / telephony bridge unavailable: {exc.reason}"
    )
