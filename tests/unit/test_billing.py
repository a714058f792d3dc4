"""Billing arithmetic: month-end anchors, period lookup, proration, aggregation and tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.billing import (
    Periods,
    add_months,
    aggregate,
    calendar_anchor,
    metered_amount,
    period_index,
    prorated,
)


def test_a_month_end_anchor_clamps_each_month_and_returns_to_the_31st() -> None:
    anchor = date(2024, 1, 31)
    assert [add_months(anchor, n) for n in range(4)] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_period_index_finds_the_period_holding_a_day() -> None:
    anchor = date(2024, 1, 31)
    assert period_index(anchor, 1, date(2024, 1, 30)) == -1
    assert period_index(anchor, 1, date(2024, 2, 28)) == 0
    assert period_index(anchor, 1, date(2024, 2, 29)) == 1
    assert period_index(anchor, 1, date(2024, 3, 30)) == 1
    assert period_index(anchor, 1, date(2024, 3, 31)) == 2
    assert period_index(anchor, 12, date(2026, 1, 30)) == 1


def test_proration_is_by_day_rounded_half_up() -> None:
    assert prorated(Decimal("30.00"), 21, 31, "EUR") == Decimal("20.32")
    assert prorated(Decimal("100"), 1, 3, "JPY") == Decimal("33")
    assert prorated(Decimal("10.00"), 1, 8, "EUR") == Decimal("1.25")


def test_aggregations() -> None:
    events = [(Decimal(3), "a"), (Decimal(5), "b"), (Decimal(3), "a")]
    assert aggregate("sum", events) == 11
    assert aggregate("count", events) == 3
    assert aggregate("max", events) == 5
    assert aggregate("unique", events) == 2


def test_graduated_tiers_and_included_units() -> None:
    metric = {
        "metric": "calls",
        "unit_price": Decimal(0),
        "included": Decimal(50),
        "tiers": [
            {"up_to": Decimal(100), "unit_price": Decimal("0.10")},
            {"up_to": None, "unit_price": Decimal("0.01")},
        ],
    }
    # 350 used, 50 free: 100 at 0.10 and 200 at 0.01.
    assert metered_amount(metric, Decimal(350), "EUR") == Decimal("12.00")
    assert metered_amount(metric, Decimal(40), "EUR") == 0


def test_calendar_anchor_is_the_next_1st_of_a_month_or_jan_1_for_a_year() -> None:
    assert calendar_anchor(date(2025, 2, 10), "month") == date(2025, 3, 1)
    assert calendar_anchor(date(2025, 12, 15), "month") == date(2026, 1, 1)
    assert calendar_anchor(date(2025, 3, 1), "month") == date(2025, 3, 1)
    assert calendar_anchor(date(2025, 3, 24), "year") == date(2026, 1, 1)
    assert calendar_anchor(date(2025, 1, 1), "year") == date(2025, 1, 1)


def test_a_short_first_period_is_period_0_and_counts_the_days_of_its_full_period() -> None:
    periods = Periods(date(2025, 2, 1), date(2025, 2, 10), date(2025, 3, 1), 1)
    assert periods.period(-1) == (date(2025, 2, 1), date(2025, 2, 10))  # the trial
    assert periods.period(0) == (date(2025, 2, 10), date(2025, 3, 1))
    assert periods.period(1) == (date(2025, 3, 1), date(2025, 4, 1))
    assert [periods.index_of(date(2025, 2, d)) for d in (9, 10, 28)] == [-1, 0, 0]
    assert periods.index_of(date(2025, 3, 1)) == 1
    assert periods.index_of(date(2025, 4, 30)) == 2
    # February's 28 days, not the 19 of the short period; then March's 31.
    assert (periods.full_days(0), periods.full_days(1)) == (28, 31)


def test_without_a_short_period_the_periods_are_the_anniversary_ones() -> None:
    periods = Periods(date(2025, 1, 31), date(2025, 1, 31), date(2025, 1, 31), 1)
    assert periods.stub == 0
    assert [periods.start_of(n) for n in range(3)] == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
    ]
    assert periods.index_of(date(2025, 2, 27)) == 0
