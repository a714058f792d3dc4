"""Applying the tax engine to invoice lines: from profiles to frozen tax decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.money import round_money
from ledger.tax import (
    Buyer,
    BuyerKind,
    NoteCode,
    Party,
    Rule,
    Seller,
    SupplyKind,
    SupplyLine,
    TaxClass,
    TaxDecision,
    decide,
    invoice_notes,
)
from ledger.tax.wording import Language

# Rules under which a sale counts towards the EUR 10,000 distance-selling threshold.
DISTANCE_SALE_RULES = frozenset({Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD, Rule.EU_B2C_OSS_DESTINATION})


@dataclass(frozen=True)
class SalesToDate:
    """The seller's EU cross-border sales to consumers, in EUR, for the threshold."""

    current_year: Decimal = Decimal(0)
    previous_year: Decimal = Decimal(0)


@dataclass(frozen=True)
class TaxedLines:
    """Lines with their decided tax, and what the invoice must say because of it."""

    lines: list[dict[str, Any]]
    notes: list[str]
    advisories: list[str]
    tax_ids_shown: list[str]


def seller_of(profile: Mapping[str, Any], sales: SalesToDate) -> Seller:
    return Seller(
        country=profile["country"],
        vat_id=profile.get("vat_id"),
        region=profile.get("region") or (profile.get("address") or {}).get("region"),
        oss_registered=bool(profile.get("oss_registered")),
        eu_b2c_sales_current_year=sales.current_year,
        eu_b2c_sales_previous_year=sales.previous_year,
        allows_rate_override=bool(profile.get("allow_tax_rate_override")),
    )


def buyer_of(profile: Mapping[str, Any]) -> Buyer:
    return Buyer(
        country=profile["country"],
        kind=BuyerKind(profile.get("kind", "business")),
        vat_id=profile.get("vat_id"),
        region=profile.get("region") or (profile.get("address") or {}).get("region"),
    )


def supply_of(line: Mapping[str, Any]) -> SupplyLine:
    return SupplyLine(
        kind=SupplyKind(line.get("kind", "services")),
        tax_class=TaxClass(line.get("tax_class") or "standard"),
        tax_rate=line.get("requested_tax_rate"),
    )


def tax_lines(
    seller: Seller,
    buyer: Buyer,
    lines: Sequence[Mapping[str, Any]],
    supply_date: date,
    language: str,
) -> TaxedLines:
    """Decide every line; the decision is written onto the line as plain data."""
    taxed: list[dict[str, Any]] = []
    notes: list[NoteCode] = []
    advisories: list[NoteCode] = []
    shown: list[Party] = []
    for line in lines:
        decision = decide(seller, buyer, supply_of(line), supply_date)
        taxed.append({**line, **_decided(decision)})
        notes.extend(decision.notes)
        advisories.extend(decision.advisories)
        shown.extend(decision.tax_ids_shown)
    return TaxedLines(
        lines=taxed,
        notes=list(invoice_notes(notes, _language(language))),
        advisories=list(dict.fromkeys(a.value for a in advisories)),
        tax_ids_shown=list(dict.fromkeys(p.value for p in shown)),
    )


def _decided(decision: TaxDecision) -> dict[str, Any]:
    return {
        "tax_category": decision.category.value,
        "tax_rate": decision.rate,
        "tax_country": decision.country,
        "tax_rule": decision.rule.value,
        "gst": [{"tax": c.tax, "rate": c.rate} for c in decision.gst],
    }


def _language(locale: str | None) -> str:
    code = (locale or "en")[:2]
    return code if code in {lang.value for lang in Language} else "en"


def distance_sales(lines: Sequence[Mapping[str, Any]]) -> Decimal:
    """Net of the lines that are EU distance sales to consumers."""
    return sum(
        (line["net_amount"] for line in lines if line.get("tax_rule") in DISTANCE_SALE_RULES),
        Decimal(0),
    )


def gst_split(
    lines: Sequence[Mapping[str, Any]], group: Mapping[str, Any], tax: Decimal, currency: str
) -> list[dict[str, Any]]:
    """A tax group's GST heads with their amounts: IGST takes the whole tax; CGST and
    SGST/UTGST take half each, the first rounded half-up and the second the rest, so the
    heads always add up to the group's tax. Empty for tax that is not GST."""
    key = (group["tax_category"], group["tax_rate"], group["tax_country"])
    for line in lines:
        if (line.get("tax_category"), line.get("tax_rate"), line.get("tax_country")) != key:
            continue
        heads = line.get("gst")
        if not heads:
            continue
        if len(heads) == 1:
            return [{"tax": heads[0]["tax"], "rate": heads[0]["rate"], "amount": tax}]
        half = round_money(tax / 2, currency)
        return [
            {"tax": heads[0]["tax"], "rate": heads[0]["rate"], "amount": half},
            {"tax": heads[1]["tax"], "rate": heads[1]["rate"], "amount": tax - half},
        ]
    return []
