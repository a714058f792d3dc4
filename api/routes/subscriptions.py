"""Subscriptions: start, read, change plan, pause, resume, cancel, and their usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AfterValidator, Field

from api.auth import Reader, Writer
from api.commands import Command, json_response
from api.pagination import Page, paged
from api.routes.common import CurrencyCode, Strict, Text, json_object, one_line
from ledger.commands.subscriptions import today
from ledger.domain.subscription import Subscription
from ledger.errors import InvalidInput

router = APIRouter(tags=["subscriptions"])

Price = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=6, allow_inf_nan=False)]
Units = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=6, allow_inf_nan=False)]
MetricName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


def _sane(value: date) -> date:
    # Periods are computed for years after these; outside them a date is a typo.
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("the date must be between 2000 and 2100")
    return value


SaneDate = Annotated[date, AfterValidator(_sane)]


class PlanIn(Strict):
    code: Annotated[str, one_line(64, min_length=1)]
    name: Text
    amount: Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=4, allow_inf_nan=False)]
    currency: CurrencyCode
    interval: Literal["month", "year"] = "month"
    interval_count: Annotated[int, Field(ge=1, le=12)] = 1
    kind: Literal["services", "digital"] = "services"


class TierIn(Strict):
    up_to: Units | None = Field(default=None, description="Last unit of the tier; none: no end")
    unit_price: Price


class MeteredIn(Strict):
    metric: MetricName
    unit_price: Price = Decimal(0)
    aggregation: Literal["sum", "count", "max", "unique"] = "sum"
    included: Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=6)] = Decimal(0)
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=20)] | None = None


Metered = Annotated[list[MeteredIn], Field(max_length=50)]


class SubscriptionIn(Strict):
    customer_id: UUID
    plan: PlanIn
    start_date: SaneDate | None = Field(default=None, description="Default: today (UTC)")
    trial_days: Annotated[int, Field(ge=0, le=730)] = 0
    metered: Metered = []
    billing: Literal["in_advance", "in_arrears"] = "in_advance"
    billing_anchor: Literal["anniversary", "calendar"] = Field(
        default="anniversary",
        description="anniversary: periods run from the day billing starts (the trial's end, "
        "else the start date). calendar: from the 1st of the month (Jan 1 for yearly plans); "
        "the days before it are a shorter first period, charged by day",
    )


class ChangeIn(Strict):
    effective_date: SaneDate | None = Field(default=None, description="Default: today (UTC)")


class ChangePlanIn(ChangeIn):
    plan: PlanIn
    metered: Metered | None = Field(default=None, description="Default: keep the metrics")
    proration: Literal["next_invoice", "immediately"] = Field(
        default="next_invoice",
        description="next_invoice: the proration lines go on the next invoice. immediately: "
        "a net charge is invoiced and finalized now; a net credit is a credit note on the "
        "invoice that charged the period (reducing what it asks for, or else added to the "
        "customer's credit balance)",
    )


class CancelIn(ChangeIn):
    at: Literal["now", "period_end"] = "period_end"


def render(subscription: Subscription, unpaid_due_date: date | None = None) -> dict[str, Any]:
    """`status` is trialing, active, past_due (its latest invoice is unpaid after its due
    date: `unpaid_due_date`, which `renderer` looks up), paused or canceled, today (UTC)."""
    day = today()
    start, end = subscription.period(subscription.period_of(day))
    return json_object(
        {
            "id": subscription.id,
            "customer_id": subscription.customer_id,
            "status": subscription.status_on(day, unpaid_due_date),
            "plan": subscription.plan,
            "metered": subscription.metered,
            "billing": subscription.billing,
            "billing_anchor": subscription.billing_anchor,
            "start_date": subscription.start_date,
            "trial_end": subscription.trial_end,
            "anchor": subscription.anchor,
            "current_period": {"start": start, "end": end},
            "ends_on": subscription.ends_on,
            "pending_lines": subscription.pending,
            "invoices": subscription.invoices,
            "credit_notes": subscription.credit_notes,
            "version": subscription.version,
            "created_at": subscription.created_on,
        }
    )


def renderer(cmd: Command) -> Callable[[Subscription], dict[str, Any]]:
    return lambda subscription: render(subscription, cmd.ledger.unpaid_due_date(subscription))


def _plan(plan: PlanIn) -> dict[str, Any]:
    return plan.model_dump()


def _metered(metered: list[MeteredIn] | None) -> list[dict[str, Any]] | None:
    return None if metered is None else [m.model_dump() for m in metered]


@router.post("/subscriptions", status_code=201)
def start_subscription(body: SubscriptionIn, caller: Writer, cmd: Command) -> Any:
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.start_subscription(
            ctx,
            body.customer_id,
            _plan(body.plan),
            _metered(body.metered) or [],
            body.start_date,
            body.trial_days,
            body.billing,
            body.billing_anchor,
        ),
        renderer(cmd),
        201,
    )


@router.get("/subscriptions")
def list_subscriptions(caller: Reader, cmd: Command, page: Page) -> Any:
    found = cmd.ledger.subscriptions(cmd.context(caller), page.limit + 1, page.before)
    rows = [{"position": position, "subscription": s} for position, s in found]
    show = renderer(cmd)
    return json_response(200, paged(rows, page, lambda row: show(row["subscription"])))


@router.get("/subscriptions/{subscription_id}")
def read_subscription(subscription_id: UUID, caller: Reader, cmd: Command) -> Any:
    subscription = cmd.ledger.subscription(cmd.context(caller), subscription_id)
    return json_response(200, renderer(cmd)(subscription))


@router.post("/subscriptions/{subscription_id}/change-plan")
def change_plan(subscription_id: UUID, body: ChangePlanIn, caller: Writer, cmd: Command) -> Any:
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.change_plan(
            ctx,
            subscription_id,
            _plan(body.plan),
            _metered(body.metered),
            body.effective_date,
            body.proration,
        ),
        renderer(cmd),
    )


@router.post("/subscriptions/{subscription_id}/pause")
def pause(subscription_id: UUID, caller: Writer, cmd: Command, body: ChangeIn | None = None) -> Any:
    on = body.effective_date if body else None
    return cmd.run(
        caller, lambda ctx: cmd.ledger.pause_subscription(ctx, subscription_id, on), renderer(cmd)
    )


@router.post("/subscriptions/{subscription_id}/resume")
def resume(
    subscription_id: UUID, caller: Writer, cmd: Command, body: ChangeIn | None = None
) -> Any:
    on = body.effective_date if body else None
    return cmd.run(
        caller, lambda ctx: cmd.ledger.resume_subscription(ctx, subscription_id, on), renderer(cmd)
    )


@router.post("/subscriptions/{subscription_id}/cancel")
def cancel(
    subscription_id: UUID, caller: Writer, cmd: Command, body: CancelIn | None = None
) -> Any:
    body = body or CancelIn()
    at_period_end = body.at == "period_end"
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.cancel_subscription(
            ctx, subscription_id, at_period_end, body.effective_date
        ),
        renderer(cmd),
    )


@router.get("/subscriptions/{subscription_id}/usage")
def subscription_usage(
    subscription_id: UUID,
    caller: Reader,
    cmd: Command,
    period: Annotated[
        str, Query(description="`current`, or a day (YYYY-MM-DD) within the period")
    ] = "current",
) -> Any:
    """The usage of one period, read from the event store (always current)."""
    try:
        day = today() if period == "current" else _sane(date.fromisoformat(period))
    except ValueError:
        raise InvalidInput(
            "period is `current` or a date between 2000 and 2100", field="period"
        ) from None
    subscription = cmd.ledger.subscription(cmd.context(caller), subscription_id)
    index = subscription.period_of(day)
    meter = cmd.ledger.meter(subscription, index)
    start, end = subscription.period(index)
    metrics = [
        {
            "metric": m["metric"],
            "aggregation": m["aggregation"],
            "quantity": meter.tally(m["metric"]).aggregated(m["aggregation"]),
            "events": meter.tally(m["metric"]).count,
        }
        for m in subscription.metered
    ]
    body = {
        "subscription_id": subscription.id,
        "period": {"start": start, "end": end, "trial": index < 0},
        "billed": meter.billed is not None,
        "metrics": metrics,
    }
    return json_response(200, json_object(body))
