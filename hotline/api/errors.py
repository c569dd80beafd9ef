"""API errors: an HTTP status, a stable error id, a bilingual message and a details dict.

Every error leaves as `{"error": {"id", "message", "details"}}`, including validation errors and
unexpected failures, so clients handle one shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

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

    @app.exception_handler(OperationalError)
    async def _database_away(request: Request, exc: OperationalError) -> JSONResponse:
        # The database is restarting or failing over: say so; the pool reconnects on the next request.
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                       str(exc.orig or exc).splitlines()[0])  # fmt: skip
        return error_body(
            503, "database_unavailable", "数据库暂不可用，请稍后重试 / database unavailable; retry shortly"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error_id = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_body(exc.status_code, error_id, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_body(500, "internal_error", "服务器内部错误 / internal error; it has been logged")


class BridgeFailed(ApiError):
    def __init__(self, status: int, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.status = status
        self.error_id = error_id


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
