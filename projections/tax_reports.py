"""tax_reports: the amounts behind VAT returns, EC sales lists, OSS and GST returns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from ledger.domain.credit_note import CreditNote
from ledger.domain.customer import ERASED, Customer
from ledger.domain.invoice import Invoice
from ledger.money import round_money
from projections.state import StateProjection
from projections.view import Statement, View

_ERASE_BUYER = "UPDATE tax_documents SET buyer_name = %s WHERE tenant_id = %s AND customer_id = %s"
_DOCUMENT = (
    "INSERT INTO tax_documents (position, seq, tenant_id, document_id, document_kind, number,"
    " invoice_number, issue_date, customer_id, buyer_name, buyer_tax_id, buyer_tax_id_valid,"
    " buyer_country, buyer_region, seller_country, seller_region, tax_country, tax_category,"
    " tax_rate, taxable_amount, tax_amount, document_total, gst) VALUES (%s, %s, %s, %s, %s,"
    " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT DO NOTHING"
)
_DAILY = (
    "INSERT INTO tax_daily AS d (tenant_id, day, seller_country, tax_country, tax_category,"
    " tax_rate, taxable_amount, tax_amount) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (tenant_id, day, seller_country, tax_country, tax_category, tax_rate)"
    " DO UPDATE SET taxable_amount = d.taxable_amount + EXCLUDED.taxable_amount,"
    " tax_amount = d.tax_amount + EXCLUDED.tax_amount"
)


class TaxReportsView(View):
    """The `tax_documents` and `tax_daily` tables."""

    tables = ("tax_documents", "tax_daily")

    def daily_totals(self, tenant_id: UUID, start: date, end: date) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT seller_country, tax_country, tax_category, tax_rate,"
                " sum(taxable_amount) AS taxable_amount, sum(tax_amount) AS tax_amount"
                " FROM tax_daily WHERE tenant_id = %s AND day BETWEEN %s AND %s"
                " GROUP BY seller_country, tax_country, tax_category, tax_rate"
                " ORDER BY tax_country, tax_category, tax_rate DESC",
                (tenant_id, start, end),
            )
            return list(curs.fetchall())

    def documents(
        self, tenant_id: UUID, start: date, end: date, categories: tuple[str, ...] | None = None
    ) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT * FROM tax_documents WHERE tenant_id = %s AND issue_date BETWEEN %s"
                " AND %s AND (%s::text[] IS NULL OR tax_category = ANY(%s))"
                " ORDER BY issue_date, position, seq",
                (
                    tenant_id,
                    start,
                    end,
                    list(categories) if categories else None,
                    list(categories) if categories else None,
                ),
            )
            return list(curs.fetchall())


class TaxReports(StateProjection[TaxReportsView]):
    """Invoices when finalized (+), credit notes when issued (-), voids when voided (-)."""

    name = "tax_reports"
    aggregate_classes = (Invoice, CreditNote, Customer)

    def statements(self, state: Any, domain_event: Any, position: int) -> list[Statement]:
        kind = type(domain_event).__name__
        if isinstance(state, Customer):
            # The documents' buyer names read as erased from now on, as a rebuild (whose
            # events no longer open) would write them.
            if kind != "Erased":
                return []
            return [(_ERASE_BUYER, (ERASED, state.tenant_id, state.id))]
        if isinstance(state, Invoice) and kind == "Finalized":
            assert state.number is not None
            assert state.issue_date is not None
            return _rows(
                state,
                position,
                "invoice",
                state.number,
                None,
                state.issue_date,
                *_breakdown_and_total(state),
                1,
            )
        if isinstance(state, Invoice) and kind == "Voided":
            assert state.number is not None
            return _rows(
                state,
                position,
                "void",
                state.number,
                state.number,
                domain_event.timestamp.date(),
                *_breakdown_and_total(state),
                -1,
            )
        if isinstance(state, CreditNote) and kind == "Issued":
            return _rows(
                state,
                position,
                "credit_note",
                state.number,
                state.invoice_number,
                state.issue_date,
                state.tax_breakdown,
                state.total,
                -1,
            )
        return []


def _breakdown_and_total(invoice: Invoice) -> tuple[list[dict[str, Any]], Decimal]:
    totals = invoice.totals()  # computed once: it sums every line
    return totals.tax_breakdown, totals.total


def _rows(
    doc: Invoice | CreditNote,
    position: int,
    kind: str,
    number: str,
    invoice_number: str | None,
    on: date,
    breakdown: list[dict[str, Any]],
    total: Decimal,
    sign: int,
) -> list[Statement]:
    seller = doc.seller or {}
    buyer = doc.buyer or {}
    accounting = doc.accounting_currency or doc.currency
    rate = doc.exchange_rate or _ONE
    gst_heads = _gst_heads(doc)

    def booked(amount: Decimal) -> Decimal:
        return sign * round_money(amount * rate, accounting)

    rows: list[Statement] = []
    for seq, group in enumerate(breakdown):
        taxable, tax = booked(group["taxable_amount"]), booked(group["tax_amount"])
        heads = gst_heads.get((group["tax_category"], group["tax_rate"], group["tax_country"]))
        values = (
            position,
            seq,
            doc.tenant_id,
            doc.id,
            kind,
            number,
            invoice_number,
            on,
            doc.customer_id,
            buyer.get("name"),
            buyer.get("vat_id"),
            buyer.get("vat_id_status") == "valid",
            buyer.get("country", ""),
            buyer.get("region"),
            seller.get("country", ""),
            seller.get("region"),
            group["tax_country"],
            group["tax_category"],
            group["tax_rate"],
            taxable,
            tax,
            booked(total),
            orjson.dumps(_gst_split(heads, tax, accounting)).decode() if heads else "[]",
        )
        rows.append((_DOCUMENT, values))
        rows.append(
            (
                _DAILY,
                (
                    doc.tenant_id,
                    on,
                    seller.get("country", ""),
                    group["tax_country"] or "",
                    group["tax_category"],
                    group["tax_rate"],
                    taxable,
                    tax,
                ),
            )
        )
    return rows


_ONE = Decimal(1)


def _gst_heads(doc: Invoice | CreditNote) -> dict[tuple[Any, Any, Any], list[dict[str, Any]]]:
    """The GST heads the engine decided, by the tax group of the first line that has them
    (an invoice outside India has none)."""
    heads: dict[tuple[Any, Any, Any], list[dict[str, Any]]] = {}
    for line in doc.lines:
        if line.get("gst"):
            group = (line.get("tax_category"), line.get("tax_rate"), line.get("tax_country"))
            heads.setdefault(group, line["gst"])
    return heads


def _gst_split(heads: list[dict[str, Any]], tax: Decimal, currency: str) -> list[dict[str, str]]:
    """CGST/SGST halves or IGST of a group's booked tax."""
    if len(heads) == 1:
        return [{"tax": heads[0]["tax"], "amount": str(tax)}]
    half = round_money(tax / 2, currency)
    return [
        {"tax": heads[0]["tax"], "amount": str(half)},
        {"tax": heads[1]["tax"], "amount": str(tax - half)},
    ]
