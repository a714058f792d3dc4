"""RFC 9457 problem+json responses: one place maps every error class to its status."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
import psycopg
import structlog
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ledger import errors

log = structlog.get_logger("api")

PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[errors.LedgerError], int]] = [
    (errors.NotFound, 404),
    (errors.InvalidInput, 422),
    (errors.AccessDenied, 403),
    (errors.StateConflict, 409),
    (errors.PlanLimitExceeded, 402),
]


class Problem(BaseModel):
    """An error as RFC 9457 problem details; `code` is the stable machine-readable reason.

    Some problems add members: `errors` (what failed validation), `field`, `current_version`.
    """

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str


# Documents the error responses of every API route in the OpenAPI description.
RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "An error (400, 401, 402, 403, 404, 409, 422, 503), as problem details",
        "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
    }
}


class Unauthorized(errors.LedgerError):
    """Raised when a request has no API key, or one that is unknown or revoked."""

    code = "unauthorized"


class ReadNotReady(errors.LedgerError):
    """Raised when the projections did not catch up with the store in time for a read."""

    code = "projections_lagging"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    # The standard members come last: an error's context may not overwrite what the
    # client dispatches on.
    body = {
        **extra,
        "type": f"https://ledger.invalid/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.LedgerError)
    async def ledger_error(request: Request, exc: errors.LedgerError) -> Response:
        status = _status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": "1"}
        return problem(status, exc.code, _title(status), exc.detail, headers, **exc.context)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        if any(p["type"] == "json_invalid" for p in problems):
            return problem(400, "malformed_request", "Bad Request", "the body is not valid JSON")
        return problem(
            422,
            "invalid_request",
            "Unprocessable Content",
            "the request does not match the schema",
            errors=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(
            exc.status_code,
            code,
            _title(exc.status_code),
            str(exc.detail),
            dict(exc.headers) if exc.headers else None,
        )

    async def database_unavailable(request: Request, exc: Exception) -> Response:
        # A lost connection or a lock not had in time: the command's save did not happen
        # as a whole (nothing acknowledged is lost), and the same request may be retried.
        log.warning("database_unavailable", path=request.url.path, error=str(exc))
        return problem(
            503,
            "database_unavailable",
            "Service Unavailable",
            "the database did not answer in time; nothing was changed, retry the request",
            {"Retry-After": "1"},
        )

    app.add_exception_handler(persistence.OperationalError, database_unavailable)
    app.add_exception_handler(psycopg.OperationalError, database_unavailable)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        return problem(500, "internal_error", "Internal Server Error", "an unexpected error")


def _status_of(exc: errors.LedgerError) -> int:
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, ReadNotReady):
        return 503
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
