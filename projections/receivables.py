"""receivables: customer statements and aging, from dated movements of what is owed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain.credit_note import CreditNote
from ledger.domain.invoice import Invoice
from ledger.domain.payment import Payment
from ledger.money import zero
from projections.state import StateProjection
from projections.view import Statement, View

_STATEMENT = (
    "INSERT INTO statement_lines (position, seq, tenant_id, customer_id, currency,"
    " effective_date, kind, document_id, number, amount) VALUES (%s, %s, %s, %s, %s, %s, %s,"
    " %s, %s, %s) ON CONFLICT DO NOTHING"
)
_OPEN_ITEM = (
    "INSERT INTO open_items (position, seq, tenant_id, customer_id, currency, invoice_id,"
    " due_date, effective_date, kind, amount) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT DO NOTHING"
)

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")


def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "days_over_90"


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: UUID
    customer_id: UUID
    currency: str
    due_date: date
    open_amount: Decimal


class ReceivablesView(View):
    """The `statement_lines` and `open_items` tables."""

    tables = ("statement_lines", "open_items")

    def statement_lines(
        self, tenant_id: UUID, customer_id: UUID, currency: str
    ) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT * FROM statement_lines WHERE tenant_id = %s AND customer_id = %s"
                " AND currency = %s ORDER BY effective_date, position, seq",
                (tenant_id, customer_id, currency),
            )
            return list(curs.fetchall())

    def currencies(self, tenant_id: UUID, customer_id: UUID) -> list[str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT DISTINCT currency FROM statement_lines WHERE tenant_id = %s"
                " AND customer_id = %s ORDER BY currency",
                (tenant_id, customer_id),
            )
            return [row["currency"] for row in curs.fetchall()]

    def open_invoices(self, tenant_id: UUID, as_of: date) -> list[OpenInvoice]:
        """Invoices with something open on `as_of`, counting only movements dated by then."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT invoice_id, customer_id, currency, due_date, sum(amount) AS open"
                " FROM open_items WHERE tenant_id = %s AND effective_date <= %s"
                " GROUP BY invoice_id, customer_id, currency, due_date"
                " HAVING sum(amount) <> 0 ORDER BY customer_id, due_date, invoice_id",
                (tenant_id, as_of),
            )
            return [
                OpenInvoice(
                    r["invoice_id"], r["customer_id"], r["currency"], r["due_date"], r["open"]
                )
                for r in curs.fetchall()
            ]


def aging(open_invoices: list[OpenInvoice], as_of: date) -> dict[str, Any]:
    """Open amounts per customer and currency in the buckets by days past due."""
    rows: dict[tuple[UUID, str], dict[str, Decimal]] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    for item in open_invoices:
        bucket = bucket_of((as_of - item.due_date).days)
        for amounts in (
            rows.setdefault((item.customer_id, item.currency), _empty(item.currency)),
            totals.setdefault(item.currency, _empty(item.currency)),
        ):
            amounts[bucket] += item.open_amount
            amounts["total"] += item.open_amount
    return {
        "rows": [
            {"customer_id": customer_id, "currency": currency, **amounts}
            for (customer_id, currency), amounts in sorted(rows.items(), key=lambda r: str(r[0]))
        ],
        "totals": dict(sorted(totals.items())),
    }


def _empty(currency: str) -> dict[str, Decimal]:
    return dict.fromkeys((*BUCKETS, "total"), zero(currency))


class Receivables(StateProjection[ReceivablesView]):
    """Turns invoice, payment and credit note events into statement lines and open items."""

    name = "receivables"
    aggregate_classes = (Invoice, Payment, CreditNote)

    def statements(self, state: Any, domain_event: Any, position: int) -> list[Statement]:
        if isinstance(state, Invoice):
            return _invoice_rows(state, domain_event, position)
        if isinstance(state, Payment):
            return _payment_rows(state, domain_event, position)
        return _credit_note_rows(state, domain_event, position)


def _invoice_rows(invoice: Invoice, event: Any, position: int) -> list[Statement]:
    kind = type(event).__name__
    if invoice.due_date is None:
        return []  # drafts owe nothing

    def item(seq: int, on: date, what: str, amount: Decimal) -> Statement:
        return (
            _OPEN_ITEM,
            (
                position,
                seq,
                invoice.tenant_id,
                invoice.customer_id,
                invoice.currency,
                invoice.id,
                invoice.due_date,
                on,
                what,
                amount,
            ),
        )

    def line(seq: int, on: date, what: str, amount: Decimal) -> Statement:
        return (
            _STATEMENT,
            (
                position,
                seq,
                invoice.tenant_id,
                invoice.customer_id,
                invoice.currency,
                on,
                what,
                invoice.id,
                invoice.number,
                amount,
            ),
        )

    if kind == "Finalized":
        total = invoice.totals().total
        assert invoice.issue_date is not None
        return [
            line(0, invoice.issue_date, "invoice", total),
            item(1, invoice.issue_date, "invoice", total),
        ]
    if kind == "PaymentRecorded":
        return [item(0, event.paid_at, "payment", -event.amount)]
    if kind == "CreditApplied" and event.outcome == "reduce_due":
        return [item(0, event.issue_date, "credit", -event.total)]
    if kind == "CustomerCreditApplied":
        return [item(0, event.applied_on, "customer_credit", -event.amount)]
    if kind == "Voided":
        voided_on = event.timestamp.date()
        total = invoice.totals().total
        return [line(0, voided_on, "void", -total), item(1, voided_on, "void", -total)]
    return []


def _payment_rows(payment: Payment, event: Any, position: int) -> list[Statement]:
    kind = type(event).__name__
    common = (payment.tenant_id, payment.customer_id, payment.currency)
    if kind == "Received":
        return [
            (
                _STATEMENT,
                (
                    position,
                    0,
                    *common,
                    payment.paid_at,
                    "payment",
                    payment.id,
                    payment.reference,
                    -payment.amount,
                ),
            )
        ]
    if kind == "Refunded":
        return [
            (
                _STATEMENT,
                (
                    position,
                    0,
                    *common,
                    event.refunded_at,
                    "refund",
                    payment.id,
                    payment.reference,
                    event.amount,
                ),
            )
        ]
    return []


def _credit_note_rows(note: CreditNote, event: Any, position: int) -> list[Statement]:
    kind = type(event).__name__
    common = (note.tenant_id, note.customer_id, note.currency)
    if kind == "Issued":
        return [
            (
                _STATEMENT,
                (
                    position,
                    0,
                    *common,
                    note.issue_date,
                    "credit_note",
                    note.id,
                    note.number,
                    -note.total,
                ),
            )
        ]
    if kind == "RefundPaid":
        return [
            (
                _STATEMENT,
                (
                    position,
                    0,
                    *common,
                    event.refunded_at,
                    "refund",
                    note.id,
                    note.number,
                    note.total,
                ),
            )
        ]
    return []
