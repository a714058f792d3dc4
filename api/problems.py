"""RFC 9457 problem+json responses: one place maps every error class to its status."""

from __future__ import annotations

from collections.abc import Callable
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


def response_for(exc: Exception, path: str) -> Response:
    """The problem+json answer to `exc`, raised while serving `path`: the installed handlers
    and the HTTP fast path both answer with it. The first class of the exception's MRO
    that has an answer decides, as Starlette picks among the installed handlers."""
    for cls in type(exc).__mro__:
        answer = _ANSWERS.get(cls)
        if answer is not None:
            return answer(exc, path)
    raise AssertionError("unreachable: `Exception` itself has an answer")


def install(app: FastAPI) -> None:
    for cls in _ANSWERS:
        app.add_exception_handler(cls, handle)


async def handle(request: Request, exc: Exception) -> Response:
    """The exception handler `install` puts on the app for every class it answers."""
    return response_for(exc, request.url.path)


def _ledger_error(exc: errors.LedgerError, path: str) -> Response:
    status = _status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "1"}
    return problem(status, exc.code, _title(status), exc.detail, headers, **exc.context)


def _invalid_request(exc: RequestValidationError, path: str) -> Response:
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


def _http_error(exc: StarletteHTTPException, path: str) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem(
        exc.status_code,
        code,
        _title(exc.status_code),
        str(exc.detail),
        dict(exc.headers) if exc.headers else None,
    )


def _database_unavailable(exc: Exception, path: str) -> Response:
    # A lost connection or a lock not had in time: the command's save did not happen
    # as a whole (nothing acknowledged is lost), and the same request may be retried.
    log.warning("database_unavailable", path=path, error=str(exc))
    return problem(
        503,
        "database_unavailable",
        "Service Unavailable",
        "the database did not answer in time; nothing was changed, retry the request",
        {"Retry-After": "1"},
    )


def _unexpected(exc: Exception, path: str) -> Response:
    log.exception("unhandled_error", path=path)
    return problem(500, "internal_error", "Internal Server Error", "an unexpected error")


_ANSWERS: dict[type[Exception], Callable[[Any, str], Response]] = {
    errors.LedgerError: _ledger_error,
    RequestValidationError: _invalid_request,
    StarletteHTTPException: _http_error,
    persistence.OperationalError: _database_unavailable,
    psycopg.OperationalError: _database_unavailable,
    # Starlette gives this one to its outermost middleware, which answers and re-raises.
    Exception: _unexpected,
}

# The errors that have an answer of their own; any other one is an unexpected 500.
ANSWERED: tuple[type[Exception], ...] = tuple(cls for cls in _ANSWERS if cls is not Exception)


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
