"""Commands and reads of subscriptions: start, change plan, pause, resume, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import Outcome
from ledger.commands.receivables import CREDIT_NOTE_SERIES
from ledger.commands.subscription_invoicing import (
    SubscriptionInvoicing,
    net_of,
    proration_invoice_id,
)
from ledger.context import CommandContext
from ledger.domain.invoice import PAYABLE
from ledger.domain.sequence import Sequence
from ledger.domain.subscription import Subscription
from ledger.domain.subscription_roster import SubscriptionRoster
from ledger.errors import InvalidInput, NotFound
from ledger.money import fits_minor_units, is_currency


def today() -> date:
    return datetime.now(UTC).date()


def check_plan(plan: dict[str, Any], metered: list[dict[str, Any]], tenant_currency: str) -> None:
    """Refuse a plan the ledger could not bill: another currency than the tenant's books
    (a billing run has no exchange rate to give), amounts finer than the minor unit, metrics
    named twice, tiers that do not rise."""
    currency = plan["currency"]
    if not is_currency(currency):
        raise InvalidInput(f"unknown currency {currency!r}", field="plan.currency")
    if currency != tenant_currency:
        raise InvalidInput(
            f"subscriptions are billed in the tenant's currency, {tenant_currency}",
            field="plan.currency",
        )
    if not fits_minor_units(Decimal(plan["amount"]), currency):
        raise InvalidInput("the plan amount has too many decimals", field="plan.amount")
    names = [m["metric"] for m in metered]
    if len(set(names)) != len(names):
        raise InvalidInput("each metric is metered once", field="metered")
    for metric in metered:
        ceilings = [t["up_to"] for t in metric.get("tiers") or []]
        if ceilings and (
            None in ceilings[:-1]
            or ceilings[-1] is not None
            or ceilings[:-1] != sorted(ceilings[:-1])
        ):
            raise InvalidInput(
                "tiers rise by up_to and the last one has no up_to", field="metered.tiers"
            )


class SubscriptionCommands(SubscriptionInvoicing):
    def start_subscription(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        plan: dict[str, Any],
        metered: list[dict[str, Any]],
        start_date: date | None = None,
        trial_days: int = 0,
        billing: str = "in_advance",
        billing_anchor: str = "anniversary",
    ) -> Subscription:
        starts = start_date or today()

        def attempt() -> Outcome[Subscription]:
            assert ctx.tenant_id is not None
            tenant = self.tenant(ctx)
            check_plan(plan, metered, tenant.profile["currency"])
            try:
                customer = self.customer(ctx, customer_id)
            except NotFound:
                raise InvalidInput(f"no customer {customer_id}", field="customer_id") from None
            customer.require_not_erased()
            roster = self._roster(ctx.tenant_id)
            subscription = Subscription.start(
                tenant_id=ctx.tenant_id,
                customer_id=customer_id,
                plan=plan,
                metered=metered,
                billing=billing,
                start_date=starts,
                trial_end=starts + timedelta(days=trial_days) if trial_days else None,
                billing_anchor=billing_anchor,
            )
            roster.add(subscription.id)
            return Outcome(subscription, [subscription, roster])

        return self._execute(ctx, attempt)

    def change_plan(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        plan: dict[str, Any],
        metered: list[dict[str, Any]] | None,
        on: date | None = None,
        proration: str = "next_invoice",
    ) -> Subscription:
        """Change the plan from `on`. The proration goes on the next invoice, or with
        `immediately` is settled now: a net charge by an invoice finalized in this save, a
        net credit by a credit note on the invoice that charged the period's fee."""
        day = on or today()
        if proration == "next_invoice":

            def change(subscription: Subscription) -> None:
                check_plan(plan, metered or [], subscription.currency)
                subscription.change_plan(plan, metered, day)

            return self._change_subscription(ctx, subscription_id, change)
        if day > today() + timedelta(days=1):
            raise InvalidInput(
                "a change in the future cannot be invoiced yet; use proration next_invoice",
                field="effective_date",
            )
        return self._change_plan_at_once(ctx, subscription_id, plan, metered, day)

    def _change_plan_at_once(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        plan: dict[str, Any],
        metered: list[dict[str, Any]] | None,
        on: date,
    ) -> Subscription:
        assert ctx.tenant_id is not None

        def attempt() -> Outcome[Subscription]:
            subscription = self._load_for_change(ctx, Subscription, subscription_id)
            check_plan(plan, metered or [], subscription.currency)
            kind = subscription.plan["kind"]
            lines = [{"kind": kind, **ln} for ln in subscription.plan_change(plan, on)]
            net = net_of(lines, subscription.currency)
            if net > 0:
                invoice_id = proration_invoice_id(subscription)
                memo = f"Subscription {subscription.id}, change to {plan['name']}"
                issued = self._issue_invoice(ctx, subscription, invoice_id, lines, on, memo)
                subscription.change_plan(plan, metered, on, {"invoice_id": invoice_id})
                saved = [subscription, *issued.aggregates]
                return Outcome(subscription, saved, issued.numbering)
            if net < 0:
                note, documents = self._credit_downgrade(ctx, subscription, -net, on)
                settlement = {"credit_note_id": note.id, "invoice_id": note.invoice_id}
                subscription.change_plan(plan, metered, on, settlement)
                return Outcome(subscription, [subscription, *documents])
            # Nothing to settle: no proration (a change on a period's first day), or lines
            # that cancel out.
            subscription.change_plan(plan, metered, on, {} if lines else None)
            return Outcome(subscription, [subscription])

        # Credit notes are numbered inside the command (see issue_credit_note).
        series_id = Sequence.create_id(ctx.tenant_id, CREDIT_NOTE_SERIES, on.year)
        with self._series_lock(series_id):
            return self._execute(ctx, attempt)

    def pause_subscription(
        self, ctx: CommandContext, subscription_id: UUID, on: date | None = None
    ) -> Subscription:
        return self._change_subscription(ctx, subscription_id, lambda s: s.pause(on or today()))

    def resume_subscription(
        self, ctx: CommandContext, subscription_id: UUID, on: date | None = None
    ) -> Subscription:
        return self._change_subscription(ctx, subscription_id, lambda s: s.resume(on or today()))

    def cancel_subscription(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        at_period_end: bool,
        on: date | None = None,
    ) -> Subscription:
        return self._change_subscription(
            ctx, subscription_id, lambda s: s.cancel(at_period_end, on or today())
        )

    def _change_subscription(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        change: Callable[[Subscription], object],
    ) -> Subscription:
        def attempt() -> Outcome[Subscription]:
            subscription = self._load_for_change(ctx, Subscription, subscription_id)
            change(subscription)
            return Outcome(subscription, [subscription])

        return self._execute(ctx, attempt)

    # -- reading ---------------------------------------------------------------

    def subscription(self, ctx: CommandContext, subscription_id: UUID) -> Subscription:
        return self._load(ctx, Subscription, subscription_id)

    def unpaid_due_date(self, subscription: Subscription) -> date | None:
        """The due date of the subscription's latest invoice while something of it is still
        owed (open, or uncollectible and not yet paid); None once it is paid, credited or
        voided. Past that date the subscription is past_due."""
        invoice_id = subscription.latest_invoice_id
        if invoice_id is None:
            return None
        invoice = self.issued_invoice(invoice_id)
        if invoice.status in PAYABLE and invoice.amount_due > 0:
            return invoice.due_date
        return None

    def subscriptions(
        self, ctx: CommandContext, limit: int, before: int | None
    ) -> list[tuple[int, Subscription]]:
        """Newest first, with their position in the tenant's roster (1 is the first)."""
        assert ctx.tenant_id is not None
        ids = self._roster(ctx.tenant_id).subscription_ids
        end = len(ids) if before is None else min(before - 1, len(ids))
        positions = range(end, max(end - limit, 0), -1)
        return [(p, self._load(ctx, Subscription, ids[p - 1])) for p in positions]

    def _roster(self, tenant_id: UUID) -> SubscriptionRoster:
        try:
            roster: Aggregate = self.repository.get(SubscriptionRoster.create_id(tenant_id))
        except AggregateNotFoundError:
            return SubscriptionRoster(tenant_id=tenant_id)
        assert isinstance(roster, SubscriptionRoster)
        return roster
