"""Monthly recurring revenue: what a subscription is worth per month, and how that changed.

A pure function of the subscription's state, so the revenue read model rebuilt from the
events is the one built incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.billing import months_of
from ledger.domain.subscription import Subscription

ZERO = Decimal(0)

NEW = "new"
EXPANSION = "expansion"
CONTRACTION = "contraction"
CHURNED = "churned"


@dataclass(frozen=True)
class MrrChange:
    """From `on`, the subscription's MRR is `mrr`, `delta` (signed) more than the day before.

    Amounts are exact (a yearly plan of 100 is 100/12 a month); they are rounded only when
    a report shows them, so that twelve such plans add up to 100, not 99.96."""

    on: date
    kind: str
    delta: Decimal
    mrr: Decimal
    # +1 when the subscription starts paying, -1 when it stops: counts the paying ones.
    paying: int


def monthly_amount(plan: dict[str, Any]) -> Decimal:
    """A plan's amount per month: a yearly plan counts a twelfth, `interval_count` divides."""
    return Decimal(plan["amount"]) / months_of(plan["interval"], plan["interval_count"])


def mrr_changes(subscription: Subscription) -> list[MrrChange]:
    """Every change of the subscription's MRR, in date order.

    A subscription pays from its anchor (the end of its trial) at the rate in force, nothing
    while paused, nothing from the day it ends. The first time it pays is `new`; a cancellation
    is `churned`; a rise (upgrade, resume) is `expansion` and a fall (downgrade, pause) is
    `contraction`: a paused customer is not lost, so pausing is not churn."""
    ends_on = subscription.ends_on
    levels: list[tuple[date, Decimal, bool]] = [
        (rate["from"], monthly_amount(rate["plan"]) if rate["plan"] else ZERO, False)
        for rate in subscription.rates
        if ends_on is None or rate["from"] < ends_on
    ]
    if ends_on is not None:
        levels.append((ends_on, ZERO, True))
    # Several changes on one day: the last one is what the day is billed at.
    by_day = {day: (level, ended) for day, level, ended in levels}
    changes: list[MrrChange] = []
    mrr, paid_before = ZERO, False
    for day, (level, ended) in sorted(by_day.items()):
        if level == mrr:
            continue
        delta = level - mrr
        if ended:
            kind = CHURNED
        elif not paid_before:
            kind = NEW
        else:
            kind = EXPANSION if delta > 0 else CONTRACTION
        paying = 1 if mrr == 0 else -1 if level == 0 else 0
        changes.append(MrrChange(day, kind, delta, level, paying))
        mrr, paid_before = level, paid_before or level > 0
    return changes
