"""What the OpenAPI schema says about errors and downloads, derived in one place from each route.

Every error leaves as `{"error": {"id", "message", "details"}}` (hotline.api.errors), from handlers
that serve every route, so which errors a route can answer follows from what the route takes:

- 503 every operation: the database or Redis is down (details.component; Retry-After);
- 401, 403 and 400 every operation that needs a signed-in user (not signed in or expired; the role or
  the station's scope does not allow it; the request makes no sense for this user);
- 400 and 422 every operation with parameters or a body (a combination refused, e.g. a period that
  ends before it starts; a field that breaks its rule, named in details.problems);
- 413 every operation with a body (over the size limit, enforced while it streams in);
- 404 every operation with a path parameter (nothing by that code, id or name).

Routes declare only what is theirs alone (409 from a state machine, 429 from the sign-in limiter,
502/504 from the telephony bridge, 416 from a Range) and get the error body added here. Operations
with a `format` parameter that offers csv/xlsx declare those downloads with their media types, and
files a route declares by media type (a recording's audio/wav) are declared as bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel, Field

from hotline.api.deps import get_current_user
from hotline.reports.tables import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE


class ErrorDetail(BaseModel):
    id: str = Field(description="stable error id, e.g. not_found, invalid_request, forbidden")
    message: str = Field(description="bilingual message: what was wrong and what to do")
    details: dict[str, Any] = Field(description="machine-readable details, e.g. problems[] for invalid fields")


class ErrorBody(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail


ERRORS = {
    400: "the request is refused as a whole (e.g. a period that ends before it starts, shifts of a non-lawyer)",
    401: "not signed in, or the session expired",
    403: "the role, or the station the user belongs to, does not allow this",
    404: "nothing by that code, id or name",
    413: "the body is larger than the limit",
    422: "a parameter or field breaks its rule; details.problems names each one",
    503: "the database or Redis is unavailable (details.component); retry after Retry-After seconds",
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
BINARY = {"type": "string", "format": "binary"}
DOWNLOADS = {CSV_MEDIA_TYPE.split(";")[0]: {"schema": BINARY}, XLSX_MEDIA_TYPE: {"schema": BINARY}}


def install_openapi(app: FastAPI, routers: list[APIRouter]) -> None:
    """Make `app.openapi()` declare the errors and downloads every route of `routers` (included in
    `app` as they are, without a further prefix) really answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            declare_errors_and_downloads(FastAPI.openapi(app), routers)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def declare_errors_and_downloads(schema: dict[str, Any], routers: list[APIRouter]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorBody"] = error_schema
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 shape, which we never send
        components.pop(name, None)
    routes = [route for router in routers for route in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format].get(method.lower())
            if operation is not None:
                _declare(operation, route)


def _declare(operation: dict[str, Any], route: APIRoute) -> None:
    responses = operation.setdefault("responses", {})
    for status in sorted(_error_statuses(operation, route)):
        declared = responses.get(str(status))
        if declared is None or declared.get("description") == "Validation Error":  # FastAPI's own 422
            responses[str(status)] = {"description": ERRORS[status]}
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = ERROR_CONTENT
    if _offers_downloads(operation):
        responses["200"].setdefault("content", {}).update(DOWNLOADS)
    for status, response in responses.items():  # files (a recording's audio/wav) are bytes
        for media_type, content in response.get("content", {}).items():
            if status.startswith("2") and "json" not in media_type and not content.get("schema"):
                content["schema"] = BINARY


def _error_statuses(operation: dict[str, Any], route: APIRoute) -> set[int]:
    where = {parameter["in"] for parameter in operation.get("parameters", [])}
    body = "requestBody" in operation
    statuses = {503}
    if get_current_user in _calls(route.dependant):
        statuses |= {400, 401, 403}
    if where or body:
        statuses |= {400, 422}
    if body:
        statuses.add(413)
    if "path" in where:
        statuses.add(404)
    return statuses


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _offers_downloads(operation: dict[str, Any]) -> bool:
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "format" and parameter.get("in") == "query":
            choices = parameter.get("schema", {}).get("enum", [])
            return "csv" in choices or "xlsx" in choices
    return False
