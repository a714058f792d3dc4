"""Document totals: line nets, VAT per (country, category, rate) group, and sums (EN 16931)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.money import round_money, zero


def line_net(quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    """Quantity x unit price, rounded to the currency's minor unit."""
    return round_money(quantity * unit_price, currency)


@dataclass(frozen=True)
class Totals:
    """What a document adds up to. VAT exists only per group, never per line (BR-CO-17)."""

    tax_breakdown: list[dict[str, Any]]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def compute_totals(lines: Iterable[Mapping[str, Any]], currency: str) -> Totals:
    """Group line nets by (tax_country, tax_category, tax_rate); tax each group's net sum once.

    Lines must carry `net_amount`, `tax_category`, `tax_rate` (a percentage) and `tax_country`.
    """
    groups: dict[tuple[str, str, Decimal], Decimal] = {}
    for line in lines:
        key = (line["tax_country"] or "", line["tax_category"], line["tax_rate"])
        groups[key] = groups.get(key, zero(currency)) + line["net_amount"]
    breakdown: list[dict[str, Any]] = [
        {
            "tax_category": category,
            "tax_rate": rate,
            "tax_country": country or None,
            "taxable_amount": taxable,
            "tax_amount": round_money(taxable * rate / 100, currency),
        }
        for (country, category, rate), taxable in sorted(groups.items(), key=_group_order)
    ]
    subtotal = sum(groups.values(), zero(currency))
    tax_total: Decimal = sum((g["tax_amount"] for g in breakdown), zero(currency))
    return Totals(breakdown, subtotal, tax_total, subtotal + tax_total)


def _group_order(item: tuple[tuple[str, str, Decimal], Decimal]) -> tuple[str, str, Decimal]:
    country, category, rate = item[0]
    return (country, category, -rate)
