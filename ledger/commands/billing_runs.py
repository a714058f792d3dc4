"""Billing runs: each period that ended is invoiced, numbered and marked billed at once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.billing import metered_amount, metered_lines
from ledger.commands.base import Outcome
from ledger.commands.subscription_invoicing import invoice_id_of, line_id_of, net_of
from ledger.commands.subscriptions import today
from ledger.commands.usage import UsageCommands
from ledger.context import CommandContext
from ledger.domain.subscription import Subscription
from ledger.domain.usage import Meter
from ledger.errors import InvalidInput, PlanLimitExceeded, StateConflict

__all__ = ["BilledBoundary", "BillingRun", "BillingRunCommands", "invoice_id_of"]


@dataclass(frozen=True)
class BilledBoundary:
    subscription_id: UUID
    boundary: int
    billed_on: date
    invoice_id: UUID | None
    # What the customer's credit balance paid of the invoice when it was issued.
    credit_applied: Decimal | None = None


@dataclass
class BillingRun:
    """What one run billed; periods billed before are not repeated."""

    as_of: date
    billed: list[BilledBoundary] = field(default_factory=list)
    # Subscriptions the run could not bill, with the error's code and detail: one that
    # cannot be billed (no tax rate for its dates, say) must not stop the others.
    failed: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Charges:
    """An invoice being assembled: its lines, and the meters that record what it charged."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    meters: list[tuple[Meter, dict[str, dict[str, Decimal]]]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    late: list[tuple[Meter, dict[str, dict[str, Decimal]]]] = field(default_factory=list)
    # The period whose base fee `lines` charge, and that line's index.
    fee: tuple[int, int] | None = None


class BillingRunCommands(UsageCommands):
    def run_billing(self, ctx: CommandContext, as_of: date) -> BillingRun:
        """Bill every boundary due by `as_of` of every subscription of the tenant. Each is
        its own atomic save, so a run that stops half way is finished by the next one."""
        if as_of > today() + timedelta(days=1):
            raise InvalidInput("a billing run cannot bill the future", field="as_of")
        assert ctx.tenant_id is not None
        claim = ctx.idempotency
        if claim is not None:
            self._raise_if_answered(ctx, claim)
        each = replace(ctx, idempotency=None, if_match=None)
        run = BillingRun(as_of)
        for subscription_id in self._roster(ctx.tenant_id).subscription_ids:
            try:
                while billed := self._execute(each, self._next_bill(each, subscription_id, as_of)):
                    run.billed.append(billed)
            except (InvalidInput, StateConflict, PlanLimitExceeded) as refused:
                run.failed.append(
                    {
                        "subscription_id": subscription_id,
                        "code": refused.code,
                        "detail": refused.detail,
                    }
                )
        if claim is None:
            return run
        # The run's answer is kept under its key once the whole run is done.
        return self._execute(ctx, lambda: Outcome(run, []))

    def _next_bill(self, ctx: CommandContext, subscription_id: UUID, as_of: date) -> Any:
        def attempt() -> Outcome[BilledBoundary | None]:
            subscription = self._load(ctx, Subscription, subscription_id)
            boundary = subscription.next_boundary
            day = subscription.boundary(boundary)
            if day is None or day > as_of:
                return Outcome(None, [])
            return self._bill(ctx, subscription, boundary, day)

        return attempt

    def _bill(
        self, ctx: CommandContext, subscription: Subscription, boundary: int, day: date
    ) -> Outcome[BilledBoundary | None]:
        assert ctx.tenant_id is not None
        invoice_id = invoice_id_of(subscription.id, boundary)
        charges = self._charges(subscription, boundary, day)
        # Credits larger than the charges wait for a later invoice rather than make this
        # one negative.
        settled = net_of(charges.lines + charges.extra, subscription.currency) >= 0
        lines = charges.lines + (charges.extra if settled else [])
        # Every meter billed says what was charged, so usage arriving later is late.
        billed_meters = charges.meters + (charges.late if settled else [])
        for meter, billed in billed_meters:
            meter.bill(invoice_id if lines else None, billed)
        meters = [meter for meter, _ in billed_meters]
        if not lines:
            subscription.record_billed(boundary, None, settled, day)
            result = BilledBoundary(subscription.id, boundary, day, None)
            return Outcome(result, [subscription, *meters])
        fee = None
        if charges.fee is not None:
            period, index = charges.fee
            fee = {"period": period, "line_id": line_id_of(invoice_id, index)}
        subscription.record_billed(boundary, invoice_id, settled, day, fee)
        memo = f"Subscription {subscription.id}, {subscription.plan['name']}"
        issued = self._issue_invoice(ctx, subscription, invoice_id, lines, day, memo)
        result = BilledBoundary(subscription.id, boundary, day, invoice_id, issued.credit_applied)
        return Outcome(result, [*issued.aggregates, subscription, *meters], issued.numbering)

    def _charges(self, subscription: Subscription, boundary: int, day: date) -> _Charges:
        charges = _Charges()
        currency = subscription.currency
        if boundary >= 1:  # the usage of the period that ended
            meter = self.meter(subscription, boundary - 1)
            start, end = subscription.period(boundary - 1)
            label = f"Usage {_span(start, min(end, day))}"
            billed: dict[str, dict[str, Decimal]] = {}
            for metric in subscription.metered:
                quantity = meter.tally(metric["metric"]).aggregated(metric["aggregation"])
                charges.lines += metered_lines(metric, quantity, label)
                amount = metered_amount(metric, quantity, currency)
                billed[metric["metric"]] = {"quantity": quantity, "amount": amount}
            charges.meters.append((meter, billed))
        period = boundary if subscription.billing == "in_advance" else boundary - 1
        fee = subscription.base_fee(period) if period >= 0 else None
        if fee is not None and fee[1] > 0:
            (plan, amount), (start, end) = fee, subscription.period(period)
            description = f"{plan['name']}, {_span(start, end)}"
            days, full = (end - start).days, subscription.periods.full_days(period)
            if days != full:
                description += f" ({days} of {full} days)"
            charges.fee = (period, len(charges.lines))
            charges.lines.append(_line(description, Decimal(1), amount))
        charges.extra += subscription.pending
        for late in subscription.late_periods:
            self._late_adjustments(subscription, late, charges)
        kind = subscription.plan["kind"]
        charges.lines = [{"kind": kind, **line} for line in charges.lines]
        charges.extra = [{"kind": kind, **line} for line in charges.extra]
        return charges

    def _late_adjustments(self, subscription: Subscription, period: int, charges: _Charges) -> None:
        """Lines for usage that arrived after its period was billed: the difference between
        what the period's usage charges now and what was charged."""
        meter = self.meter(subscription, period)
        before = meter.billed or {}
        start, end = subscription.period(period)
        now: dict[str, dict[str, Decimal]] = {}
        for metric in subscription.metered:
            name = metric["metric"]
            quantity = meter.tally(name).aggregated(metric["aggregation"])
            amount = metered_amount(metric, quantity, subscription.currency)
            now[name] = {"quantity": quantity, "amount": amount}
            was = before.get(name, {"quantity": Decimal(0), "amount": Decimal(0)})
            if amount != was["amount"]:
                description = (
                    f"Adjustment for late usage: {name}, {_span(start, end)} "
                    f"(quantity {was['quantity']} -> {quantity})"
                )
                charges.extra.append(_line(description, Decimal(1), amount - was["amount"]))
        charges.late.append((meter, now))


def _span(start: date, end: date) -> str:
    """A period as people read it: its first and last day."""
    return f"{start.isoformat()} to {(end - timedelta(days=1)).isoformat()}"


def _line(description: str, quantity: Decimal, unit_price: Decimal) -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unit_price": unit_price}
