"""revenue_changes: each subscription's MRR changes, and the monthly revenue report over them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain.subscription import Subscription
from ledger.money import round_money
from ledger.revenue import CHURNED, CONTRACTION, EXPANSION, NEW, mrr_changes
from projections.state import StateProjection
from projections.view import Statement, View

_FORGET = "DELETE FROM revenue_changes WHERE subscription_id = %s"
_CHANGE = (
    "INSERT INTO revenue_changes (subscription_id, step, tenant_id, currency, effective_date,"
    " kind, delta, mrr, paying) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# Per month of the range and currency: MRR before the month, the month's changes by kind,
# and MRR and paying subscriptions at its end. A change dated the 1st counts in that month.
_MONTHLY = """
WITH months AS (
    SELECT m::date AS first_day, (m + interval '1 month')::date AS next_first
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m
)
SELECT to_char(first_day, 'YYYY-MM') AS month, c.currency,
    coalesce(sum(c.delta) FILTER (WHERE c.effective_date < first_day), 0) AS mrr_start,
    coalesce(sum(c.delta) FILTER (WHERE c.effective_date >= first_day AND c.kind = 'new'), 0)
        AS new,
    coalesce(sum(c.delta) FILTER (WHERE c.effective_date >= first_day
        AND c.kind = 'expansion'), 0) AS expansion,
    coalesce(-sum(c.delta) FILTER (WHERE c.effective_date >= first_day
        AND c.kind = 'contraction'), 0) AS contraction,
    coalesce(-sum(c.delta) FILTER (WHERE c.effective_date >= first_day
        AND c.kind = 'churned'), 0) AS churned,
    sum(c.delta) AS mrr,
    sum(c.paying) AS subscriptions
FROM months JOIN revenue_changes c ON c.effective_date < next_first
WHERE c.tenant_id = %(tenant_id)s
GROUP BY first_day, c.currency
ORDER BY first_day, c.currency
"""
KINDS = (NEW, EXPANSION, CONTRACTION, CHURNED)
# Made by @event("Billed") and @event("LateUsageNoted"), so unknown to the type checker.
_UNCHANGED = (
    Subscription.Billed,  # type: ignore[attr-defined]
    Subscription.LateUsageNoted,  # type: ignore[attr-defined]
)


class RevenueView(View):
    """The `revenue_changes` table."""

    tables = ("revenue_changes",)

    def monthly(self, tenant_id: UUID, first: date, last: date) -> list[dict[str, Any]]:
        """Exact sums per month (first days `first` to `last`) and currency."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(_MONTHLY, {"tenant_id": tenant_id, "first": first, "last": last})
            return list(curs.fetchall())


class RevenueChanges(StateProjection[RevenueView]):
    """Rewrites a subscription's MRR changes whenever its rate schedule changes."""

    name = "revenue"
    aggregate_classes = (Subscription,)

    def statements(self, state: Any, domain_event: object, position: int) -> list[Statement]:
        # Billing and late usage leave the rate schedule, and so the rows, as they were.
        if isinstance(domain_event, _UNCHANGED):
            return []
        rows: list[Statement] = [(_FORGET, (state.id,))]
        for step, change in enumerate(mrr_changes(state)):
            row = (state.id, step, state.tenant_id, state.currency, change.on, change.kind)
            rows.append((_CHANGE, (*row, change.delta, change.mrr, change.paying)))
        return rows


def revenue_report(monthly: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows rounded half-up to each currency's minor unit, ARR (12 x MRR) beside MRR, and per
    currency the range's movements with the MRR and ARR at its end. Currencies never mix."""
    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, Decimal]] = {}
    for row in monthly:
        currency = row["currency"]

        def money(amount: Decimal, currency: str = currency) -> Decimal:
            return round_money(Decimal(amount), currency)

        shown = {
            "month": row["month"],
            "currency": currency,
            "mrr_start": money(row["mrr_start"]),
            **{kind: money(row[kind]) for kind in KINDS},
            "mrr": money(row["mrr"]),
            "arr": money(row["mrr"] * 12),
            "subscriptions": int(row["subscriptions"]),
        }
        rows.append(shown)
        moved = totals.setdefault(
            currency, {"mrr_start": shown["mrr_start"], **{kind: Decimal(0) for kind in KINDS}}
        )
        for kind in KINDS:
            moved[kind] += Decimal(row[kind])
        moved["mrr"], moved["arr"] = shown["mrr"], shown["arr"]
    for currency, moved in totals.items():
        for kind in KINDS:
            moved[kind] = round_money(moved[kind], currency)
    return {"data": rows, "totals": totals}
