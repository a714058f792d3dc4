"""The subscription: a plan billed per period from an anchor, with metered usage."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.billing import Periods, calendar_anchor, months_of, prorated
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidInput, StateConflict

Plan = dict[str, Any]


class SubscriptionEnded(StateConflict):
    """Raised when a canceled (or ending) subscription is changed, paused or resumed."""

    code = "subscription_ended"


class SubscriptionNotPaused(StateConflict):
    """Raised by pausing a paused subscription, or resuming one that is not paused."""

    code = "subscription_pause_state"


class ProrationNotCreditable(StateConflict):
    """Raised when a plan change's net credit is to be credited at once but no invoice
    charged the period's base fee on a line that can still take it."""

    code = "proration_not_creditable"


class Subscription(LedgerAggregate):
    """A customer's plan. The base fee of a period is the rate in force on its first day;
    a change of rate inside a period (plan change, pause, resume, cancel) is settled by
    proration lines, decided when the change happens, that the next invoice carries (or,
    for a plan change, an invoice or credit note issued at once: the `settlement`).

    Boundaries are the days invoices are issued: boundary j is the start of period j (or
    the end date, when the subscription ends first). At boundary j the invoice bills the
    usage of period j-1, the base fee of period j (in advance) or j-1 (in arrears), the
    pending proration lines and adjustments for late usage.
    """

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @classmethod
    def start(
        cls,
        tenant_id: UUID,
        customer_id: UUID,
        plan: Plan,
        metered: list[dict[str, Any]],
        billing: str,
        start_date: date,
        trial_end: date | None,
        billing_anchor: str = "anniversary",
    ) -> Subscription:
        """Anniversary billing counts periods from the day billing starts (the trial's end,
        else the start); calendar billing from the next 1st of a month (Jan 1, yearly)."""
        first = trial_end or start_date
        anchor = calendar_anchor(first, plan["interval"]) if billing_anchor == "calendar" else None
        return cls(
            tenant_id=tenant_id,
            customer_id=customer_id,
            plan=plan,
            metered=metered,
            billing=billing,
            start_date=start_date,
            trial_end=trial_end,
            billing_anchor=billing_anchor,
            anchor=anchor,
        )

    @event("Started")
    def __init__(
        self,
        tenant_id: UUID,
        customer_id: UUID,
        plan: Plan,
        metered: list[dict[str, Any]],
        billing: str,
        start_date: date,
        trial_end: date | None,
        # Absent from events recorded before calendar billing existed: anniversary.
        billing_anchor: str = "anniversary",
        anchor: date | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.plan = plan
        self.metered = metered
        self.billing = billing
        self.start_date = start_date
        self.trial_end = trial_end
        self.billing_anchor = billing_anchor
        # Billing starts when the trial ends (or at the start); periods count from `anchor`.
        self.billing_start = trial_end or start_date
        self.anchor = anchor or self.billing_start
        # The base rate over time: [{"from": date, "plan": plan or None (paused)}].
        self.rates: list[dict[str, Any]] = [{"from": self.billing_start, "plan": plan}]
        self.ends_on: date | None = None
        self.next_boundary = 0 if billing == "in_advance" else 1
        self.pending: list[dict[str, Any]] = []
        self.late_periods: list[int] = []
        self.invoices: list[dict[str, Any]] = []
        self.credit_notes: list[dict[str, Any]] = []
        # The invoice line that charged each period's base fee, by period: what a credit
        # note for a downgrade charged at once credits.
        self.fee_lines: dict[int, dict[str, UUID]] = {}

    # -- reading ---------------------------------------------------------------

    @property
    def currency(self) -> str:
        return str(self.plan["currency"])

    @property
    def months(self) -> int:
        return months_of(self.plan["interval"], self.plan["interval_count"])

    @property
    def periods(self) -> Periods:
        return Periods(self.start_date, self.billing_start, self.anchor, self.months)

    def period(self, index: int) -> tuple[date, date]:
        """First day and end (exclusive) of period `index`; -1 is the trial."""
        return self.periods.period(index)

    def period_of(self, day: date) -> int:
        return self.periods.index_of(day)

    def base_fee(self, index: int) -> tuple[Plan, Decimal] | None:
        """The plan and fee of period `index`: the rate of its first day, by day of the
        full period for a shorter first period. None while paused or ended."""
        start, end = self.period(index)
        plan = self.plan_on(start)
        if plan is None:
            return None
        days, full = (end - start).days, self.periods.full_days(index)
        return plan, prorated(Decimal(plan["amount"]), days, full, self.currency)

    def plan_on(self, day: date) -> Plan | None:
        """The plan charged on `day`: None while paused, ended, or before the start."""
        if day < self.start_date or (self.ends_on is not None and day >= self.ends_on):
            return None
        current = None
        for rate in self.rates:
            if rate["from"] <= day:
                current = rate["plan"]
        return current

    def status_on(self, day: date, unpaid_due_date: date | None = None) -> str:
        """`unpaid_due_date`: the due date of the subscription's latest invoice while it is
        unpaid. Past it, an active subscription is past_due (and is still billed)."""
        if self.ends_on is not None and day >= self.ends_on:
            return "canceled"
        if self.trial_end is not None and day < self.trial_end:
            return "trialing"
        if self.paused_on(day):
            return "paused"
        if unpaid_due_date is not None and unpaid_due_date < day:
            return "past_due"
        return "active"

    @property
    def latest_invoice_id(self) -> UUID | None:
        return self.invoices[-1]["invoice_id"] if self.invoices else None

    def paused_on(self, day: date) -> bool:
        """Whether the latest rate change on or before `day` paused the subscription."""
        started = [rate for rate in self.rates if rate["from"] <= day]
        return bool(started) and started[-1]["plan"] is None

    def live_on(self, day: date) -> bool:
        """Whether usage on `day` belongs to the subscription: started, not ended."""
        return self.start_date <= day and (self.ends_on is None or day < self.ends_on)

    def boundary(self, index: int) -> date | None:
        """The issue day of boundary `index`, None once the subscription has ended."""
        start = self.periods.start_of(index)
        if self.ends_on is None or start < self.ends_on:
            return start
        previous = self.periods.start_of(index - 1) if index > 0 else None
        if previous is None or previous < self.ends_on:
            return self.ends_on  # the final boundary bills up to the end
        return None

    def metric(self, name: str) -> dict[str, Any] | None:
        return next((m for m in self.metered if m["metric"] == name), None)

    # -- changing the rate -----------------------------------------------------

    def _check_change(self, on: date) -> None:
        if self.ends_on is not None:
            raise SubscriptionEnded(f"the subscription ends on {self.ends_on}")
        if on < self.rates[-1]["from"] or on < self.start_date:
            raise InvalidInput(
                f"a change must not predate the last one ({self.rates[-1]['from']})",
                field="effective_date",
            )
        billed = self.billing == "in_arrears" and self.next_boundary > 1
        if billed and on < self.boundary_day(self.next_boundary - 1):
            raise InvalidInput("that period is already billed", field="effective_date")

    def boundary_day(self, index: int) -> date:
        return self.periods.start_of(max(index, 0))

    def _proration(self, on: date, new: Plan | None) -> list[dict[str, Any]]:
        """Credit for the old rate's unused days and a charge for the new rate's, by day,
        for the period holding `on`. A change on a period's first day needs none (the
        period is billed at the rate of its first day), nor does one in the trial."""
        index = self.period_of(on)
        start, end = self.period(index)
        if index < 0 or on == start:
            return []
        old = self.plan_on(on)
        remaining, length = (end - on).days, self.periods.full_days(index)
        span = f"{on.isoformat()} to {(end - timedelta(days=1)).isoformat()}"
        lines = []
        if old is not None:
            credit = prorated(Decimal(old["amount"]), remaining, length, self.currency)
            lines.append(_line(f"Unused time on {old['name']}, {span}", -credit, old["kind"]))
        if new is not None:
            charge = prorated(Decimal(new["amount"]), remaining, length, self.currency)
            lines.append(_line(f"Remaining time on {new['name']}, {span}", charge, new["kind"]))
        return [line for line in lines if line["unit_price"] != 0]

    def plan_change(self, plan: Plan, on: date) -> list[dict[str, Any]]:
        """Check a change to `plan` on `on`; the proration lines it makes."""
        self._check_change(on)
        if self.rates[-1]["plan"] is None:
            raise SubscriptionNotPaused("resume the subscription before changing its plan")
        if (plan["interval"], plan["interval_count"]) != (
            self.plan["interval"],
            self.plan["interval_count"],
        ) or plan["currency"] != self.currency:
            raise InvalidInput("a plan change keeps the interval and the currency", field="plan")
        return self._proration(on, plan)

    def change_plan(
        self,
        plan: Plan,
        metered: list[dict[str, Any]] | None,
        on: date,
        settlement: dict[str, Any] | None = None,
    ) -> None:
        """`settlement`: how the proration was settled at once ({"invoice_id"} or
        {"credit_note_id", "invoice_id"}, {} when it nets to nothing); None leaves the
        lines pending for the next invoice."""
        self._plan_changed(
            plan=plan,
            metered=self.metered if metered is None else metered,
            effective_date=on,
            proration=self.plan_change(plan, on),
            settlement=settlement,
        )

    @event("PlanChanged")
    def _plan_changed(
        self,
        plan: Plan,
        metered: list[dict[str, Any]],
        effective_date: date,
        proration: list[dict[str, Any]],
        settlement: dict[str, Any] | None = None,
    ) -> None:
        self.plan, self.metered = plan, metered
        self.rates.append({"from": effective_date, "plan": plan})
        if settlement is None:
            self.pending += proration
        elif "credit_note_id" in settlement:
            self.credit_notes.append({**settlement, "on": effective_date})
        elif "invoice_id" in settlement:
            entry = {"boundary": None, "invoice_id": settlement["invoice_id"]}
            self.invoices.append({**entry, "on": effective_date})

    def pause(self, on: date) -> None:
        self._check_change(on)
        if self.rates[-1]["plan"] is None:
            raise SubscriptionNotPaused("the subscription is already paused")
        self._paused(effective_date=on, proration=self._proration(on, None))

    @event("Paused")
    def _paused(self, effective_date: date, proration: list[dict[str, Any]]) -> None:
        self.rates.append({"from": effective_date, "plan": None})
        self.pending += proration

    def resume(self, on: date) -> None:
        self._check_change(on)
        if self.rates[-1]["plan"] is not None:
            raise SubscriptionNotPaused("the subscription is not paused")
        self._resumed(effective_date=on, proration=self._proration(on, self.plan))

    @event("Resumed")
    def _resumed(self, effective_date: date, proration: list[dict[str, Any]]) -> None:
        self.rates.append({"from": effective_date, "plan": self.plan})
        self.pending += proration

    def cancel(self, at_period_end: bool, on: date) -> None:
        """End the subscription on `on`, or at the end of the period holding it."""
        self._check_change(on)
        ends_on = self.period(max(self.period_of(on), -1))[1] if at_period_end else on
        proration = [] if at_period_end else self._proration(on, None)
        self._canceled(ends_on=ends_on, proration=proration)

    @event("Canceled")
    def _canceled(self, ends_on: date, proration: list[dict[str, Any]]) -> None:
        self.ends_on = ends_on
        self.pending += proration

    # -- billing ---------------------------------------------------------------

    def note_late_usage(self, period: int) -> None:
        """Usage arrived for a period already billed: the next invoice adjusts it."""
        if period not in self.late_periods:
            self._late_usage_noted(period=period)

    @event("LateUsageNoted")
    def _late_usage_noted(self, period: int) -> None:
        self.late_periods = sorted([*self.late_periods, period])

    def record_billed(
        self,
        boundary: int,
        invoice_id: UUID | None,
        settled: bool,
        on: date,
        fee: dict[str, Any] | None = None,
    ) -> None:
        """Boundary billed. `settled`: the pending lines and late usage went on the invoice
        (else they wait for the next, as they would have made it negative). `fee`: the
        period whose base fee the invoice charged, and the line that did."""
        if boundary != self.next_boundary:
            raise StateConflict(f"boundary {boundary} is not the next to bill")
        self._billed(boundary=boundary, invoice_id=invoice_id, settled=settled, on=on, fee=fee)

    @event("Billed")
    def _billed(
        self,
        boundary: int,
        invoice_id: UUID | None,
        settled: bool,
        on: date,
        fee: dict[str, Any] | None = None,
    ) -> None:
        self.next_boundary = boundary + 1
        if settled:
            self.pending = []
            self.late_periods = []
        if invoice_id is not None:
            self.invoices.append({"boundary": boundary, "invoice_id": invoice_id, "on": on})
            if fee is not None:
                self.fee_lines[fee["period"]] = {
                    "invoice_id": invoice_id,
                    "line_id": fee["line_id"],
                }


def _line(description: str, amount: Decimal, kind: str) -> dict[str, Any]:
    return {"description": description, "quantity": Decimal(1), "unit_price": amount, "kind": kind}
