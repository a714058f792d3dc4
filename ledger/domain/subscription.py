"""The subscription: a plan billed per period from an anchor, with metered usage."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.billing import months_of, period_index, period_start, prorated
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidInput, StateConflict

Plan = dict[str, Any]


class SubscriptionEnded(StateConflict):
    """Raised when a canceled (or ending) subscription is changed, paused or resumed."""

    code = "subscription_ended"


class SubscriptionNotPaused(StateConflict):
    """Raised by pausing a paused subscription, or resuming one that is not paused."""

    code = "subscription_pause_state"


class Subscription(LedgerAggregate):
    """A customer's plan. The base fee of a period is the rate in force on its first day;
    a change of rate inside a period (plan change, pause, resume, cancel) is settled by
    proration lines, decided when the change happens, that the next invoice carries.

    Boundaries are the days invoices are issued: boundary j is the start of period j (or
    the end date, when the subscription ends first). At boundary j the invoice bills the
    usage of period j-1, the base fee of period j (in advance) or j-1 (in arrears), the
    pending proration lines and adjustments for late usage.
    """

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

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
    ) -> None:
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.plan = plan
        self.metered = metered
        self.billing = billing
        self.start_date = start_date
        self.trial_end = trial_end
        # Anniversary billing: periods run from the day the trial ends (or the start).
        self.anchor = trial_end or start_date
        # The base rate over time: [{"from": date, "plan": plan or None (paused)}].
        self.rates: list[dict[str, Any]] = [{"from": self.anchor, "plan": plan}]
        self.ends_on: date | None = None
        self.next_boundary = 0 if billing == "in_advance" else 1
        self.pending: list[dict[str, Any]] = []
        self.late_periods: list[int] = []
        self.invoices: list[dict[str, Any]] = []

    # -- reading ---------------------------------------------------------------

    @property
    def currency(self) -> str:
        return str(self.plan["currency"])

    @property
    def months(self) -> int:
        return months_of(self.plan["interval"], self.plan["interval_count"])

    def period(self, index: int) -> tuple[date, date]:
        """First day and end (exclusive) of period `index`; -1 is the trial."""
        if index < 0:
            return self.start_date, self.anchor
        return period_start(self.anchor, self.months, index), period_start(
            self.anchor, self.months, index + 1
        )

    def period_of(self, day: date) -> int:
        return period_index(self.anchor, self.months, day)

    def plan_on(self, day: date) -> Plan | None:
        """The plan charged on `day`: None while paused, ended, or before the start."""
        if day < self.start_date or (self.ends_on is not None and day >= self.ends_on):
            return None
        current = None
        for rate in self.rates:
            if rate["from"] <= day:
                current = rate["plan"]
        return current

    def status_on(self, day: date) -> str:
        if self.ends_on is not None and day >= self.ends_on:
            return "canceled"
        if self.trial_end is not None and day < self.trial_end:
            return "trialing"
        if self.paused_on(day):
            return "paused"
        return "active"

    def paused_on(self, day: date) -> bool:
        """Whether the latest rate change on or before `day` paused the subscription."""
        started = [rate for rate in self.rates if rate["from"] <= day]
        return bool(started) and started[-1]["plan"] is None

    def live_on(self, day: date) -> bool:
        """Whether usage on `day` belongs to the subscription: started, not ended."""
        return self.start_date <= day and (self.ends_on is None or day < self.ends_on)

    def boundary(self, index: int) -> date | None:
        """The issue day of boundary `index`, None once the subscription has ended."""
        start = period_start(self.anchor, self.months, index)
        if self.ends_on is None or start < self.ends_on:
            return start
        previous = period_start(self.anchor, self.months, index - 1) if index > 0 else None
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
        return period_start(self.anchor, self.months, max(index, 0))

    def _proration(self, on: date, new: Plan | None) -> list[dict[str, Any]]:
        """Credit for the old rate's unused days and a charge for the new rate's, by day,
        for the period holding `on`. A change on a period's first day needs none (the
        period is billed at the rate of its first day), nor does one in the trial."""
        index = self.period_of(on)
        start, end = self.period(index)
        if index < 0 or on == start:
            return []
        old = self.plan_on(on)
        remaining, length = (end - on).days, (end - start).days
        span = f"{on.isoformat()} to {(end - timedelta(days=1)).isoformat()}"
        lines = []
        if old is not None:
            credit = prorated(Decimal(old["amount"]), remaining, length, self.currency)
            lines.append(_line(f"Unused time on {old['name']}, {span}", -credit, old["kind"]))
        if new is not None:
            charge = prorated(Decimal(new["amount"]), remaining, length, self.currency)
            lines.append(_line(f"Remaining time on {new['name']}, {span}", charge, new["kind"]))
        return [line for line in lines if line["unit_price"] != 0]

    def change_plan(self, plan: Plan, metered: list[dict[str, Any]] | None, on: date) -> None:
        self._check_change(on)
        if self.rates[-1]["plan"] is None:
            raise SubscriptionNotPaused("resume the subscription before changing its plan")
        if (plan["interval"], plan["interval_count"]) != (
            self.plan["interval"],
            self.plan["interval_count"],
        ) or plan["currency"] != self.currency:
            raise InvalidInput("a plan change keeps the interval and the currency", field="plan")
        self._plan_changed(
            plan=plan,
            metered=self.metered if metered is None else metered,
            effective_date=on,
            proration=self._proration(on, plan),
        )

    @event("PlanChanged")
    def _plan_changed(
        self,
        plan: Plan,
        metered: list[dict[str, Any]],
        effective_date: date,
        proration: list[dict[str, Any]],
    ) -> None:
        self.plan, self.metered = plan, metered
        self.rates.append({"from": effective_date, "plan": plan})
        self.pending += proration

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
        self, boundary: int, invoice_id: UUID | None, settled: bool, on: date
    ) -> None:
        """Boundary billed. `settled`: the pending lines and late usage went on the invoice
        (else they wait for the next, as they would have made it negative)."""
        if boundary != self.next_boundary:
            raise StateConflict(f"boundary {boundary} is not the next to bill")
        self._billed(boundary=boundary, invoice_id=invoice_id, settled=settled, on=on)

    @event("Billed")
    def _billed(self, boundary: int, invoice_id: UUID | None, settled: bool, on: date) -> None:
        self.next_boundary = boundary + 1
        if settled:
            self.pending = []
            self.late_periods = []
        if invoice_id is not None:
            self.invoices.append({"boundary": boundary, "invoice_id": invoice_id, "on": on})


def _line(description: str, amount: Decimal, kind: str) -> dict[str, Any]:
    return {"description": description, "quantity": Decimal(1), "unit_price": amount, "kind": kind}
