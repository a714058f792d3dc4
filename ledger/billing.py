"""Billing arithmetic: periods from an anchor, proration by day, usage aggregation, tiers.

Pure functions of their arguments, so a billing run is reproducible from the events alone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.money import round_money

AGGREGATIONS = ("sum", "count", "max", "unique")


def months_of(interval: str, interval_count: int) -> int:
    """The length of a billing period in months."""
    return interval_count * (12 if interval == "year" else 1)


def add_months(anchor: date, months: int) -> date:
    """The anchor's day `months` later, clamped to the month's last day.

    Always counted from the anchor, never from the previous period, so an anchor on the
    31st gives Jan 31 -> Feb 28 (29) -> Mar 31 instead of drifting to the 28th."""
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def period_start(anchor: date, months: int, index: int) -> date:
    """The first day of period `index` (0 starts at the anchor)."""
    return add_months(anchor, months * index)


def period_index(anchor: date, months: int, day: date) -> int:
    """The index of the period holding `day`; -1 before the anchor (the trial)."""
    if day < anchor:
        return -1
    months_between = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = max(months_between // months, 0)
    # The clamped month-end anchors make the estimate at most one period too far.
    while period_start(anchor, months, index) > day:
        index -= 1
    while period_start(anchor, months, index + 1) <= day:
        index += 1
    return index


def calendar_anchor(day: date, interval: str) -> date:
    """Where calendar billing's periods start: the first 1st of a month (Jan 1 for a yearly
    plan) on or after `day`."""
    if interval == "year":
        return day if (day.month, day.day) == (1, 1) else date(day.year + 1, 1, 1)
    return day if day.day == 1 else add_months(day.replace(day=1), 1)


@dataclass(frozen=True)
class Periods:
    """A subscription's billing periods. Index -1 is the trial, from `start` to `first`
    (the day billing starts); then periods of `months` counted from `anchor`. With calendar
    billing `first` may come before `anchor`, and period 0 is the shorter first period
    [first, anchor), charged by day as a part of the full period it ends."""

    start: date
    first: date
    anchor: date
    months: int

    @property
    def stub(self) -> int:
        """1 when period 0 is a shorter first period, else 0."""
        return 1 if self.first < self.anchor else 0

    def start_of(self, index: int) -> date:
        """The first day of period `index` (0 or later)."""
        if index == 0:
            return self.first
        return period_start(self.anchor, self.months, index - self.stub)

    def period(self, index: int) -> tuple[date, date]:
        """First day and end (exclusive) of period `index`."""
        if index < 0:
            return self.start, self.first
        return self.start_of(index), self.start_of(index + 1)

    def index_of(self, day: date) -> int:
        if day < self.first:
            return -1
        if day < self.anchor:
            return 0
        return period_index(self.anchor, self.months, day) + self.stub

    def full_days(self, index: int) -> int:
        """The days of a whole period: a shorter first period counts those of the full
        period it ends, so its fee and any proration in it are by day of that."""
        start, end = self.period(index)
        if index == 0 and self.stub:
            start = period_start(self.anchor, self.months, -1)
        return (end - start).days


def prorated(amount: Decimal, days: int, period_days: int, currency: str) -> Decimal:
    """`amount` for `days` out of a period of `period_days`, rounded like an invoice line."""
    return round_money(amount * days / period_days, currency)


@dataclass
class Tally:
    """Usage of one metric in one period, kept so that any aggregation can be read off it."""

    total: Decimal = Decimal(0)
    count: int = 0
    maximum: Decimal = Decimal(0)
    values: set[str] = field(default_factory=set)

    def add(self, quantity: Decimal, value: str) -> None:
        self.total += quantity
        self.count += 1
        self.maximum = max(self.maximum, quantity)
        self.values.add(value)

    def aggregated(self, aggregation: str) -> Decimal:
        if aggregation == "sum":
            return self.total
        if aggregation == "count":
            return Decimal(self.count)
        if aggregation == "max":
            return self.maximum
        return Decimal(len(self.values))


def aggregate(aggregation: str, quantities: Iterable[tuple[Decimal, str]]) -> Decimal:
    """The aggregation of (quantity, unique value) pairs: what a metric bills."""
    tally = Tally()
    for quantity, value in quantities:
        tally.add(quantity, value)
    return tally.aggregated(aggregation)


def metered_lines(metric: Mapping[str, Any], quantity: Decimal, label: str) -> list[dict[str, Any]]:
    """Invoice lines for a metric's aggregated quantity: the included units are free, the
    rest is priced at `unit_price` or, with `tiers`, graduated: each tier's units at the
    tier's price, one line per tier so the customer sees how the charge was reached."""
    billable = max(quantity - Decimal(metric.get("included") or 0), Decimal(0))
    if billable == 0:
        return []
    tiers: Sequence[Mapping[str, Any]] | None = metric.get("tiers")
    if not tiers:
        return [_line(f"{label}: {metric['metric']}", billable, metric["unit_price"])]
    lines, floor = [], Decimal(0)
    for tier in tiers:
        ceiling = tier.get("up_to")
        in_tier = billable - floor if ceiling is None else min(billable, ceiling) - floor
        if in_tier > 0:
            upper = "+" if ceiling is None else f"-{ceiling}"
            description = f"{label}: {metric['metric']} ({floor + 1}{upper})"
            lines.append(_line(description, in_tier, tier["unit_price"]))
        if ceiling is None or billable <= ceiling:
            break
        floor = ceiling
    return lines


def metered_amount(metric: Mapping[str, Any], quantity: Decimal, currency: str) -> Decimal:
    """What `metered_lines` charge, net, rounded line by line as the invoice does."""
    return sum(
        (
            round_money(line["quantity"] * line["unit_price"], currency)
            for line in metered_lines(metric, quantity, "")
        ),
        Decimal(0),
    )


def _line(description: str, quantity: Decimal, unit_price: Decimal) -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unit_price": unit_price}
