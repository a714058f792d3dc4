"""Operations: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import PlainTextResponse, Response

from api.commands import json_response

router = APIRouter(tags=["operations"])

# Readiness fails when a projection is further behind the store than this.
MAX_READY_LAG = 10_000


@router.get("/health")
def health() -> Any:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={
        503: {
            "description": "The database fails or a projection lags too far",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def ready(request: Request) -> Any:
    """The database answers and the projections keep up."""
    projectors = request.app.state.projectors
    try:
        lag = projectors.lag()
    except Exception as error:  # any database failure means "not ready", never a crash
        return json_response(503, {"status": "unavailable", "database": str(error)[:200]})
    leading = {name: p.leading for name, p in projectors.by_name.items()}
    ok = all(v <= MAX_READY_LAG for v in lag.values())
    body = {"status": "ready" if ok else "lagging", "projector_lag": lag, "leading": leading}
    return json_response(200 if ok else 503, body)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    state = request.app.state
    for name, lag in state.projectors.lag().items():
        state.metrics.projector_lag.labels(name).set(lag)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
