"""Per-request context: request and correlation ids on every log line, metrics, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics

log = structlog.get_logger("api")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestContext:
    """Pure ASGI middleware (no per-request task switch, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_request_id = given_correlation_id = None
        for raw_name, value in scope["headers"]:
            name = raw_name.lower()
            if name == b"x-request-id":
                given_request_id = _given(value.decode("latin-1"))
            elif name == b"x-correlation-id":
                given_correlation_id = _given(value.decode("latin-1"))
        request_id = given_request_id or uuid.uuid4().hex
        correlation_id = given_correlation_id or request_id
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        scope["state"]["correlation_id"] = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, correlation_id=correlation_id)
        started = time.perf_counter()
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                    (b"x-correlation-id", correlation_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            tenant_id = scope["state"].get("tenant_id")
            if tenant_id is not None:
                scope["app"].state.request_counts.count(tenant_id)
            if log.is_enabled_for(logging.INFO):  # at the usual warning level: nothing to do
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    actor=scope["state"].get("actor"),
                )


def _given(value: str | None) -> str | None:
    return value if value and _SAFE_ID.match(value) else None


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", "unmatched")
