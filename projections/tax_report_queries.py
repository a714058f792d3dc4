"""Turning the tax_reports rows into the reports accountants file."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from ledger.tax.territories import EU_MEMBER_STATES

# Categories whose base a VAT return shows apart from the standard-rated supplies.
BASES = {
    "Z": "zero_rated",
    "E": "exempt",
    "AE": "reverse_charge",
    "K": "intra_community",
    "G": "export",
    "O": "outside_scope",
}
B2C_LARGE_INR = Decimal(100_000)  # GSTR-1 table 5 since 1 Aug 2024 (Notification 12/2024)


def vat_return(daily: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [
        {
            k: row[k]
            for k in ("tax_country", "tax_category", "tax_rate", "taxable_amount", "tax_amount")
        }
        for row in daily
    ]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals["taxable_amount"] += row["taxable_amount"]
        totals["output_tax"] += row["tax_amount"]
        key = BASES.get(row["tax_category"], "standard_rated")
        totals[f"{key}_base"] += row["taxable_amount"]
    return {"rows": rows, "totals": dict(totals)}


def oss_return(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Supplies taxed in another member state than the seller's (Union scheme)."""
    rows = [
        {
            "member_state": r["tax_country"],
            "tax_rate": r["tax_rate"],
            "taxable_amount": r["taxable_amount"],
            "tax_amount": r["tax_amount"],
        }
        for r in daily
        if r["tax_category"] == "S"
        and r["tax_country"] != r["seller_country"]
        and r["tax_country"] in EU_MEMBER_STATES
    ]
    return {"rows": rows, "totals": _sum(rows, "taxable_amount", "tax_amount")}


def ec_sales_list(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Intra-EU B2B supplies per customer VAT id: goods (K) and services (AE)."""
    per: dict[tuple[str, str], dict[str, Decimal]] = {}
    for doc in documents:
        key = (doc["buyer_tax_id"] or "", doc["buyer_country"])
        amounts = per.setdefault(key, {"goods": Decimal(0), "services": Decimal(0)})
        amounts["goods" if doc["tax_category"] == "K" else "services"] += doc["taxable_amount"]
    rows = [
        {
            "customer_vat_id": vat_id,
            "country": country,
            **amounts,
            "total": amounts["goods"] + amounts["services"],
        }
        for (vat_id, country), amounts in sorted(per.items())
    ]
    return {"rows": rows, "totals": _sum(rows, "goods", "services", "total")}


def gst_return(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """GSTR-1 style buckets: b2b by GSTIN, b2cl, b2cs by state and rate, exports, notes."""
    b2b: list[dict[str, Any]] = []
    b2cl: list[dict[str, Any]] = []
    b2cs: dict[tuple[str, Decimal, str], dict[str, Decimal]] = {}
    exports: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for doc in documents:
        if doc["seller_country"] != "IN":
            continue
        item = {
            "document_number": doc["number"],
            "issue_date": doc["issue_date"],
            "tax_rate": doc["tax_rate"],
            "taxable_amount": doc["taxable_amount"],
            "tax_amount": doc["tax_amount"],
            "heads": doc["gst"],
            "place_of_supply": doc["buyer_region"],
        }
        inter_state = doc["buyer_region"] != doc["seller_region"]
        if doc["document_kind"] != "invoice":
            notes.append(
                {
                    **item,
                    "registered": doc["buyer_tax_id_valid"],
                    "gstin": doc["buyer_tax_id"],
                    "invoice_number": doc["invoice_number"],
                }
            )
        elif doc["tax_category"] == "G":
            exports.append({**item, "country": doc["buyer_country"]})
        elif doc["buyer_tax_id_valid"]:
            b2b.append({**item, "gstin": doc["buyer_tax_id"]})
        elif inter_state and doc["document_total"] > B2C_LARGE_INR:
            b2cl.append(item)
        else:
            key = (doc["buyer_region"] or "", doc["tax_rate"], "inter" if inter_state else "intra")
            sums = b2cs.setdefault(key, {"taxable_amount": Decimal(0), "tax_amount": Decimal(0)})
            sums["taxable_amount"] += doc["taxable_amount"]
            sums["tax_amount"] += doc["tax_amount"]
    return {
        "b2b": b2b,
        "b2cl": b2cl,
        "b2cs": [
            {"place_of_supply": pos, "tax_rate": rate, "supply": supply, **sums}
            for (pos, rate, supply), sums in sorted(b2cs.items())
        ],
        "exports": exports,
        "credit_notes": notes,
    }


def _sum(rows: list[dict[str, Any]], *keys: str) -> dict[str, Decimal]:
    return {key: sum((r[key] for r in rows), Decimal(0)) for key in keys}
