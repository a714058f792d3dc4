"""Turning the tax_reports rows into the reports accountants file.

Each `*_report` function is one report of a tenant's period as the API serves it: it reads
the view (the daily sums, or SQL that filters and sums document rows in the database, so a
year of 100,000 invoices is not carried into Python) and shapes the result with the plain
functions below them, which work on document rows as well as on rows summed in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from psycopg import sql
from psycopg.types.json import set_json_loads

from ledger.tax.territories import EU_MEMBER_STATES
from projections.tax_reports import TaxReportsView

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

# Intra-community supplies (K goods, AE services) summed per buyer VAT id, country and
# category: a few rows per customer however many invoices (index tax_documents_ec_sales).
_EC_SALES = (
    "SELECT buyer_tax_id, buyer_country, tax_category, sum(taxable_amount) AS taxable_amount"
    " FROM tax_documents WHERE tenant_id = %s AND issue_date BETWEEN %s AND %s"
    " AND tax_category IN ('K', 'AE') GROUP BY buyer_tax_id, buyer_country, tax_category"
)
# GSTR-1 B2C small, as gst_return sorts documents: invoices to unregistered buyers that are
# neither exports nor large inter-state ones. The return shows only their sums per place of
# supply and rate, so the database sums them; every other document is listed.
_GST_PERIOD = sql.SQL(
    "tenant_id = %(tenant)s AND issue_date BETWEEN %(start)s AND %(end)s AND seller_country = 'IN'"
)
_B2C_SMALL = sql.SQL(
    "document_kind = 'invoice' AND tax_category <> 'G' AND NOT buyer_tax_id_valid"
    " AND NOT (buyer_region IS DISTINCT FROM seller_region AND document_total > %(large)s)"
)
_GST_LISTED = sql.SQL(
    "SELECT seller_country, document_kind, number, invoice_number, issue_date, tax_category,"
    " tax_rate, taxable_amount, tax_amount, document_total, gst, buyer_tax_id,"
    " buyer_tax_id_valid, buyer_country, buyer_region, seller_region FROM tax_documents"
    " WHERE {period} AND NOT ({small}) ORDER BY issue_date, position, seq"
).format(period=_GST_PERIOD, small=_B2C_SMALL)
_GST_B2C_SMALL = sql.SQL(
    "SELECT coalesce(buyer_region, '') AS place_of_supply, tax_rate, CASE WHEN buyer_region"
    " IS DISTINCT FROM seller_region THEN 'inter' ELSE 'intra' END AS supply,"
    " sum(taxable_amount) AS taxable_amount, sum(tax_amount) AS tax_amount FROM tax_documents"
    " WHERE {period} AND {small} GROUP BY 1, 2, 3"
).format(period=_GST_PERIOD, small=_B2C_SMALL)


def vat_report(view: TaxReportsView, tenant_id: UUID, start: date, end: date) -> dict[str, Any]:
    return vat_return(view.daily_totals(tenant_id, start, end))


def oss_report(view: TaxReportsView, tenant_id: UUID, start: date, end: date) -> dict[str, Any]:
    return oss_return(view.daily_totals(tenant_id, start, end))


def ec_sales_list_report(
    view: TaxReportsView, tenant_id: UUID, start: date, end: date
) -> dict[str, Any]:
    with view.datastore.transaction(commit=False) as curs:
        curs.execute(_EC_SALES, (tenant_id, start, end))
        return ec_sales_list(curs.fetchall())


def gst_report(view: TaxReportsView, tenant_id: UUID, start: date, end: date) -> dict[str, Any]:
    params = {"tenant": tenant_id, "start": start, "end": end, "large": B2C_LARGE_INR}
    with view.datastore.transaction(commit=False) as curs:
        set_json_loads(orjson.loads, curs)  # the GST heads of every listed document
        curs.execute(_GST_LISTED, params)
        listed = curs.fetchall()
        curs.execute(_GST_B2C_SMALL, params)
        small = curs.fetchall()
    return gst_return(listed, small)


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
    """Intra-EU B2B supplies per customer VAT id: goods (K) and services (AE), from
    document rows or from their taxable amounts already summed per VAT id and category."""
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


def gst_return(
    documents: list[dict[str, Any]], b2c_small: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """GSTR-1 style buckets: b2b by GSTIN, b2cl, b2cs by state and rate, exports, notes.
    `b2c_small` are B2C small sums made elsewhere (place_of_supply, tax_rate, supply,
    taxable_amount, tax_amount), added to those of the documents."""
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
            _add(b2cs, key, doc)
    for group in b2c_small:
        _add(b2cs, (group["place_of_supply"], group["tax_rate"], group["supply"]), group)
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


def _add(
    b2cs: dict[tuple[str, Decimal, str], dict[str, Decimal]],
    key: tuple[str, Decimal, str],
    amounts: dict[str, Any],
) -> None:
    sums = b2cs.setdefault(key, {"taxable_amount": Decimal(0), "tax_amount": Decimal(0)})
    sums["taxable_amount"] += amounts["taxable_amount"]
    sums["tax_amount"] += amounts["tax_amount"]


def _sum(rows: list[dict[str, Any]], *keys: str) -> dict[str, Decimal]:
    return {key: sum((r[key] for r in rows), Decimal(0)) for key in keys}
