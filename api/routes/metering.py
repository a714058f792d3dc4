"""Usage ingestion, billing runs and the usage report."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, NotRequired, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from api.auth import Reporter, Writer
from api.commands import Command, json_response
from api.routes.common import Strict, json_object, one_line, wait_for_projections
from api.routes.subscriptions import MetricName, SaneDate
from ledger.commands.billing_runs import BillingRun
from ledger.commands.usage import MAX_BATCH, UsageVerdicts
from ledger.errors import InvalidInput
from projections.usage import UsageView

router = APIRouter(tags=["usage and billing"])


class UsageIn(TypedDict):
    # Typed dicts rather than models: a batch of a thousand validates into the plain dicts
    # the command takes, without building and dumping a model per event.
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    subscription_id: UUID
    metric: MetricName
    quantity: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6, allow_inf_nan=False)]
    # Between 2000 and 2100, checked after validation (`usage_events`): a validator
    # function per event would cost more than the rest of the event's validation.
    timestamp: Annotated[datetime, Field(description="When it was used; without a zone, UTC")]
    idempotency_key: Annotated[str, one_line(255, min_length=1)]
    value: NotRequired[
        Annotated[
            Annotated[str, one_line(255)] | None,
            Field(description="What `unique` counts distinct values of (a user id, say)"),
        ]
    ]


class UsageBatchIn(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    events: Annotated[list[UsageIn], Field(min_length=1, max_length=MAX_BATCH)]


# A batch is parsed from the raw body by pydantic's own JSON parser, in the worker thread:
# FastAPI would decode the JSON with the json module, then validate the objects, both in
# the event loop, together about twice as long for a thousand events.
_USAGE_BATCH = TypeAdapter(UsageBatchIn)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The batch's JSON schema with its event schema written in place of the reference."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_USAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(_USAGE_BATCH.json_schema())}},
    }
}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def usage_events(body: bytes) -> list[dict[str, Any]]:
    """The events of a usage batch body, or the same 400/422 as any other body."""
    try:
        batch = _USAGE_BATCH.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
    events = cast(list[dict[str, Any]], batch["events"])
    implausible = [
        {
            "loc": ("body", "events", number, "timestamp"),
            "msg": "Value error, the timestamp must be between 2000 and 2100",
            "type": "value_error",
        }
        for number, event in enumerate(events)
        if not 2000 <= event["timestamp"].year <= 2100
    ]
    if implausible:
        raise RequestValidationError(implausible)
    return events


class BillingRunIn(Strict):
    as_of: SaneDate


def _batch(batch: UsageVerdicts) -> dict[str, Any]:
    return {
        "recorded": batch.count("recorded"),
        "duplicates": batch.count("duplicate"),
        "rejected": batch.count("rejected"),
        "results": batch.results,
    }


def _run(run: BillingRun) -> dict[str, Any]:
    return json_object(
        {"as_of": run.as_of, "billed": [vars(b) for b in run.billed], "failed": run.failed}
    )


@router.post("/usage", openapi_extra=_USAGE_BODY)
def record_usage(body: Annotated[bytes, Depends(_raw_body)], caller: Writer, cmd: Command) -> Any:
    events = usage_events(body)
    return cmd.run(caller, lambda ctx: cmd.ledger.record_usage(ctx, events), _batch)


@router.post("/billing/run")
def run_billing(body: BillingRunIn, caller: Writer, cmd: Command) -> Any:
    return cmd.run(caller, lambda ctx: cmd.ledger.run_billing(ctx, body.as_of), _run)


@router.get("/reports/usage")
def usage_report(
    request: Request,
    caller: Reporter,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> Any:
    """Usage per subscription, metric and period (periods starting in the range), the
    documents issued per month and the tenant's authenticated API requests per month (each
    server process adds its counts every few seconds)."""
    if end < start:
        raise InvalidInput("`to` is before `from`", field="to")
    wait_for_projections(request, "usage_counters")
    view: UsageView = request.app.state.projectors.view("usage_counters")
    counters = view.counters(caller.tenant_id, start, end)
    documents = view.documents_per_month(caller.tenant_id, start, end)
    requests = request.app.state.request_counts.per_month(caller.tenant_id, start, end)
    totals = {
        "events": sum(row["events"] for row in counters),
        "documents": sum(row["documents"] for row in documents),
        "api_requests": sum(row["requests"] for row in requests),
    }
    body = {"data": counters, "documents": documents, "api_requests": requests, "totals": totals}
    return json_response(200, json_object(body))
