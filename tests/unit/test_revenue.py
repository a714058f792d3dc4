"""MRR of a subscription over time: yearly plans a twelfth, trials nothing, pauses and
cancellations, and the kind of every change."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.context import acting_as
from ledger.domain.subscription import Subscription
from ledger.revenue import monthly_amount, mrr_changes
from tests.conftest import command_context

BASIC = {
    "code": "b",
    "name": "Basic",
    "amount": Decimal("30.00"),
    "currency": "EUR",
    "interval": "month",
    "interval_count": 1,
    "kind": "services",
}


def plan(amount: str, interval: str = "month", count: int = 1) -> dict[str, Any]:
    return {**BASIC, "amount": Decimal(amount), "interval": interval, "interval_count": count}


def subscription(start: date, trial_end: date | None = None) -> Subscription:
    return Subscription(
        tenant_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        plan=BASIC,
        metered=[],
        billing="in_advance",
        start_date=start,
        trial_end=trial_end,
    )


def test_yearly_plans_count_a_twelfth_and_interval_count_divides() -> None:
    assert monthly_amount(plan("120.00", "year")) == Decimal(10)
    assert monthly_amount(plan("90.00", "month", 3)) == Decimal(30)
    assert monthly_amount(plan("240.00", "year", 2)) == Decimal(10)
    assert monthly_amount(plan("100.00", "year")) * 12 == Decimal("100.0000000000000000000000000")


def test_changes_and_their_kinds() -> None:
    with acting_as(command_context(None)):
        sub = subscription(date(2025, 1, 1), trial_end=date(2025, 1, 15))
        sub.change_plan(plan("60.00"), None, date(2025, 2, 20))
        sub.change_plan(plan("40.00"), None, date(2025, 3, 20))
        sub.pause(date(2025, 4, 20))
        sub.resume(date(2025, 5, 20))
        sub.cancel(at_period_end=False, on=date(2025, 6, 20))

    changes = [(c.on, c.kind, c.delta, c.mrr, c.paying) for c in mrr_changes(sub)]

    assert changes == [
        (date(2025, 1, 15), "new", Decimal(30), Decimal(30), 1),  # when the trial ends
        (date(2025, 2, 20), "expansion", Decimal(30), Decimal(60), 0),
        (date(2025, 3, 20), "contraction", Decimal(-20), Decimal(40), 0),
        (date(2025, 4, 20), "contraction", Decimal(-40), Decimal(0), -1),
        (date(2025, 5, 20), "expansion", Decimal(40), Decimal(40), 1),
        (date(2025, 6, 20), "churned", Decimal(-40), Decimal(0), -1),
    ]


def test_the_last_change_of_a_day_holds_and_a_paused_cancellation_churns_nothing() -> None:
    with acting_as(command_context(None)):
        sub = subscription(date(2025, 1, 1))
        sub.change_plan(plan("60.00"), None, date(2025, 2, 1))
        sub.change_plan(plan("30.00"), None, date(2025, 2, 1))
        sub.pause(date(2025, 3, 1))
        sub.cancel(at_period_end=False, on=date(2025, 3, 10))

    changes = [(c.on, c.kind, c.delta) for c in mrr_changes(sub)]

    assert changes == [
        (date(2025, 1, 1), "new", Decimal(30)),
        (date(2025, 3, 1), "contraction", Decimal(-30)),
    ]
