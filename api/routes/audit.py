"""Auditors and integrations: the tenant's event feed and the hash chain's verification."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import Auditor, Caller
from api.checkpoints import sign, signing_key
from api.commands import json_response
from api.routes.common import json_object
from api.routes.invoices import history_item
from ledger.application import Ledger
from ledger.errors import NotFound
from projections.chain_verify import heads, verify
from projections.event_feed import EventFeed

router = APIRouter(tags=["audit"])

POLL_SECONDS = 0.1


class FeedEvent(BaseModel):
    position: int = Field(description="Store order; pass the last one as `after`")
    aggregate_type: str
    aggregate_id: str
    version: int
    type: str
    recorded_at: str
    actor: str
    correlation_id: str
    data: dict[str, Any]


class FeedPage(BaseModel):
    data: list[FeedEvent]
    next_after: int = Field(description="`after` for the next request")


class BreakOut(BaseModel):
    position: int
    kind: str = Field(description="altered, inserted, deleted or truncated")
    aggregate_id: str | None
    aggregate_version: int | None
    detail: str


class VerificationOut(BaseModel):
    ok: bool
    events_checked: int
    head_position: int | None
    head_hash: str | None
    first_break: BreakOut | None
    breaks: list[BreakOut]


@router.get("/events", response_model=FeedPage)
async def event_feed(
    request: Request,
    caller: Auditor,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=30, description="Seconds to wait for an event after `after`")
    ] = 0,
) -> Response:
    """The tenant's events after a position, oldest first (owner and auditor keys). With
    `wait`, an empty answer comes only after that many seconds without a new event (long
    polling), so an integration can follow the feed instead of receiving webhooks."""
    ledger: Ledger = request.app.state.ledger
    feed = EventFeed(ledger.factory.datastore)  # type: ignore[attr-defined]
    deadline = time.monotonic() + wait
    while True:
        items = await run_in_threadpool(feed.page, caller.tenant_id, after, limit)
        if items or time.monotonic() >= deadline or await request.is_disconnected():
            break
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    data = [_feed_event(ledger, item.position, item.event) for item in items]
    return json_response(200, {"data": data, "next_after": items[-1].position if items else after})


def _feed_event(ledger: Ledger, position: int, stored: Any) -> dict[str, Any]:
    event = ledger.mapper.to_domain_event(stored)
    aggregate_type, _, kind = type(event).__qualname__.rpartition(".")
    item = history_item(event)  # type: ignore[arg-type]
    return json_object(
        {
            "position": position,
            "aggregate_type": aggregate_type,
            "aggregate_id": stored.originator_id,
            "version": item["version"],
            "type": kind,
            "recorded_at": item["recorded_at"],
            "actor": item["actor"],
            "correlation_id": item["correlation_id"],
            "data": item["data"],
        }
    )


@router.get("/audit/verify", response_model=VerificationOut)
def verify_chain(request: Request, caller: Auditor) -> Response:
    """Recompute the tenant's hash chain from the stored events and report every link that
    does not hold: an event altered, inserted or deleted outside the ledger."""
    return json_response(200, verification(request, caller))


def verification(request: Request, caller: Caller) -> dict[str, Any]:
    location = request.app.state.projectors.location
    with psycopg.connect(location.conninfo()) as conn:
        # In this process: a request does not start processes in the API server (`ledger
        # verify` checks a large store in several).
        result = verify(conn, caller.tenant_id, workers=1)
    breaks = [
        {
            "position": b.position,
            "kind": b.kind,
            "aggregate_id": b.aggregate_id,
            "aggregate_version": b.aggregate_version,
            "detail": b.detail,
        }
        for b in result.breaks or []
    ]
    head = (result.heads or {}).get(caller.tenant_id)
    return json_object(
        {
            "ok": result.ok,
            "events_checked": result.checked,
            "head_position": head[0] if head else None,
            "head_hash": head[1].hex() if head else None,
            "first_break": breaks[0] if breaks else None,
            "breaks": breaks,
        }
    )


class CheckpointOut(BaseModel):
    algorithm: str
    tenant_id: str
    position: int
    hash: str
    signed_at: str
    public_key: str = Field(description="Base64 Ed25519 public key; pin it, do not trust it")
    signature: str = Field(
        description="Base64 signature over the other members as JSON with sorted keys"
    )


@router.get("/audit/checkpoint", response_model=CheckpointOut)
def checkpoint(request: Request, caller: Auditor) -> Response:
    """The tenant's chain head, signed with the operator's key, for a third party to keep.
    409 `checkpoints_disabled` when the server has no signing key."""
    settings = request.app.state.settings
    secret = settings.checkpoint_key.get_secret_value() if settings.checkpoint_key else None
    key = signing_key(secret)
    location = request.app.state.projectors.location
    with psycopg.connect(location.conninfo(), autocommit=True) as conn:
        head = heads(conn, caller.tenant_id).get(caller.tenant_id)
    if head is None:
        raise NotFound("the tenant has no events yet")
    signed = sign(key, caller.tenant_id, head[0], head[1], datetime.now(UTC))
    return json_response(200, signed)
