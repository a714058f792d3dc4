"""Usage ingestion, billing runs and the usage report."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, Field

from api.auth import Reporter, Writer
from api.commands import Command, json_response
from api.routes.common import Strict, json_object, one_line, wait_for_projections
from api.routes.subscriptions import MetricName, SaneDate
from ledger.commands.billing_runs import BillingRun
from ledger.commands.usage import MAX_BATCH, UsageBatch
from ledger.errors import InvalidInput
from projections.usage import UsageView

router = APIRouter(tags=["usage and billing"])


def _plausible(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2100:
        raise ValueError("the timestamp must be between 2000 and 2100")
    return value


class UsageIn(Strict):
    subscription_id: UUID
    metric: MetricName
    quantity: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6, allow_inf_nan=False)]
    timestamp: Annotated[datetime, AfterValidator(_plausible)] = Field(
        description="When it was used; without a zone, UTC"
    )
    idempotency_key: Annotated[str, one_line(255, min_length=1)]
    value: Annotated[str, one_line(255)] | None = Field(
        default=None, description="What `unique` counts distinct values of (a user id, say)"
    )


class UsageBatchIn(Strict):
    events: Annotated[list[UsageIn], Field(min_length=1, max_length=MAX_BATCH)]


class BillingRunIn(Strict):
    as_of: SaneDate


def _batch(batch: UsageBatch) -> dict[str, Any]:
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


@router.post("/usage")
def record_usage(body: UsageBatchIn, caller: Writer, cmd: Command) -> Any:
    events = [event.model_dump() for event in body.events]
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
    """Usage per subscription, metric and period (periods starting in the range), and the
    documents issued per month."""
    if end < start:
        raise InvalidInput("`to` is before `from`", field="to")
    wait_for_projections(request, "usage_counters")
    view: UsageView = request.app.state.projectors.view("usage_counters")
    counters = view.counters(caller.tenant_id, start, end)
    documents = view.documents_per_month(caller.tenant_id, start, end)
    totals = {
        "events": sum(row["events"] for row in counters),
        "documents": sum(row["documents"] for row in documents),
    }
    body = {"data": counters, "documents": documents, "totals": totals}
    return json_response(200, json_object(body))
