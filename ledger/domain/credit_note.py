"""The credit note: corrects a finalized invoice; issued at once, numbered, never edited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, check_rendering
from ledger.errors import CreditExceedsInvoice, InvalidInput, StateConflict
from ledger.money import fits_minor_units, round_money, zero
from ledger.totals import line_net

GroupKey = tuple[str, str, Decimal]  # (tax_country, tax_category, tax_rate)


class Outcome(StrEnum):
    REDUCE_DUE = "reduce_due"  # the invoice's amount due falls
    REFUND = "refund"  # the customer is owed the amount in cash
    CREDIT_BALANCE = "credit_balance"  # the customer's credit, consumed by later invoices


@dataclass(frozen=True)
class CreditRequest:
    """One requested line: a quantity of an invoice line, or a net amount of it."""

    invoice_line_id: UUID
    quantity: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class CreditComputation:
    """The lines and totals of a credit note, with tax mirroring the credited lines."""

    lines: list[dict[str, Any]]
    tax_breakdown: list[dict[str, Any]]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def compute_credit(
    invoice_lines: list[dict[str, Any]],
    credited_lines: dict[UUID, dict[str, Decimal]],
    credited_groups: dict[GroupKey, dict[str, Decimal]],
    currency: str,
    requests: list[CreditRequest] | None,
) -> CreditComputation:
    """Price a credit against what is left of each invoice line.

    `requests=None` credits everything that remains. Tax is rounded cumulatively per
    group: this credit's tax is round(rate x all net credited so far) minus the tax
    already credited, so credited tax never exceeds the invoice's group tax and a
    complete credit gives back exactly the invoice's tax.
    """
    by_id = {line["id"]: line for line in invoice_lines}
    wanted = (
        requests
        if requests is not None
        else [
            CreditRequest(line["id"])
            for line in invoice_lines
            if _remaining(line, credited_lines)[1] > 0
        ]
    )
    if not wanted:
        raise CreditExceedsInvoice("everything on this invoice has been credited already")
    lines: list[dict[str, Any]] = []
    seen: set[UUID] = set()
    for request in wanted:
        line = by_id.get(request.invoice_line_id)
        if line is None:
            raise InvalidInput(
                f"the invoice has no line {request.invoice_line_id}", field="invoice_line_id"
            )
        if request.invoice_line_id in seen:
            raise InvalidInput("a line may appear once per credit note", field="invoice_line_id")
        seen.add(request.invoice_line_id)
        lines.append(_credit_line(line, credited_lines, currency, request))
    breakdown = _breakdown(lines, credited_groups, currency)
    subtotal = sum((g["taxable_amount"] for g in breakdown), zero(currency))
    tax_total = sum((g["tax_amount"] for g in breakdown), zero(currency))
    return CreditComputation(lines, breakdown, subtotal, tax_total, subtotal + tax_total)


def _remaining(
    line: dict[str, Any], credited_lines: dict[UUID, dict[str, Decimal]]
) -> tuple[Decimal, Decimal]:
    done = credited_lines.get(line["id"], {})
    return (
        line["quantity"] - done.get("quantity", Decimal(0)),
        line["net_amount"] - done.get("net", Decimal(0)),
    )


def _credit_line(
    line: dict[str, Any],
    credited_lines: dict[UUID, dict[str, Decimal]],
    currency: str,
    request: CreditRequest,
) -> dict[str, Any]:
    quantity_left, net_left = _remaining(line, credited_lines)
    if request.quantity is not None:
        if request.quantity <= 0:
            raise InvalidInput("a credited quantity must be positive", field="quantity")
        if request.quantity > quantity_left:
            raise CreditExceedsInvoice(
                f"only {quantity_left} of line {line['id']} is left to credit",
                invoice_line_id=str(line["id"]),
            )
        # Crediting the rest of the quantity credits the rest of the net, so rounding
        # of partial quantities cannot leave a cent behind or take one too many.
        quantity = request.quantity
        net = (
            net_left
            if quantity == quantity_left
            else min(line_net(quantity, line["unit_price"], currency), net_left)
        )
    elif request.amount is not None:
        if request.amount <= 0 or not fits_minor_units(request.amount, currency):
            raise InvalidInput(
                f"a credited amount must be positive with at most the decimals of {currency}",
                field="amount",
            )
        if request.amount > net_left:
            raise CreditExceedsInvoice(
                f"only {net_left} (net) of line {line['id']} is left to credit",
                invoice_line_id=str(line["id"]),
            )
        net, quantity = request.amount, Decimal(0)
    else:
        quantity, net = quantity_left, net_left
    if net <= 0:
        raise CreditExceedsInvoice(
            f"line {line['id']} has been credited in full already", invoice_line_id=str(line["id"])
        )
    return {
        "id": uuid4(),
        "invoice_line_id": line["id"],
        "description": line["description"],
        "quantity": quantity,
        "unit_price": line["unit_price"],
        "kind": line.get("kind"),
        "net_amount": net,
        "tax_category": line["tax_category"],
        "tax_rate": line["tax_rate"],
        "tax_country": line["tax_country"],
    }


def _breakdown(
    lines: list[dict[str, Any]],
    credited_groups: dict[GroupKey, dict[str, Decimal]],
    currency: str,
) -> list[dict[str, Any]]:
    nets: dict[GroupKey, Decimal] = {}
    for line in lines:
        key = (line["tax_country"] or "", line["tax_category"], line["tax_rate"])
        nets[key] = nets.get(key, zero(currency)) + line["net_amount"]
    breakdown = []
    for (country, category, rate), net in sorted(
        nets.items(), key=lambda i: (i[0][0], i[0][1], -i[0][2])
    ):
        before = credited_groups.get((country, category, rate), {})
        net_before = before.get("net", zero(currency))
        tax_before = before.get("tax", zero(currency))
        tax = round_money((net_before + net) * rate / 100, currency) - tax_before
        breakdown.append(
            {
                "tax_category": category,
                "tax_rate": rate,
                "tax_country": country or None,
                "taxable_amount": net,
                "tax_amount": tax,
            }
        )
    return breakdown


def _group_order(item: tuple[GroupKey, Decimal]) -> tuple[str, str, Decimal]:
    country, category, rate = item[0]
    return (country, category, -rate)


class CreditNote(LedgerAggregate):
    """A numbered correction of one invoice (art. 219 of Directive 2006/112/EC: it refers
    to the invoice it amends by number and date)."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Issued")
    def __init__(
        self,
        tenant_id: UUID,
        invoice_id: UUID,
        customer_id: UUID,
        number: str,
        invoice_number: str,
        invoice_issue_date: date,
        issue_date: date,
        currency: str,
        reason: str,
        outcome: str,
        lines: list[dict[str, Any]],
        tax_breakdown: list[dict[str, Any]],
        subtotal: Decimal,
        tax_total: Decimal,
        total: Decimal,
        seller: dict[str, Any],
        buyer: dict[str, Any],
        notes: list[str],
        exchange_rate: Decimal | None = None,
        accounting_currency: str | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        # The invoice's rate into the tenant's currency: a credit is reported at it.
        self.exchange_rate = exchange_rate
        self.accounting_currency = accounting_currency
        self.invoice_id = invoice_id
        self.customer_id = customer_id
        self.number = number
        self.invoice_number = invoice_number
        self.invoice_issue_date = invoice_issue_date
        self.issue_date = issue_date
        self.currency = currency
        self.reason = reason
        self.outcome = Outcome(outcome)
        self.lines = lines
        self.tax_breakdown = tax_breakdown
        self.subtotal = subtotal
        self.tax_total = tax_total
        self.total = total
        self.seller = seller
        self.buyer = buyer
        self.notes = notes
        self.refunded: dict[str, Any] | None = None
        # The first PDF of the credit note: {sha256, version, locale}.
        self.rendering: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        if self.outcome is Outcome.REFUND:
            return "refunded" if self.refunded else "refund_owed"
        return "issued"

    def pay_refund(
        self, refund_id: UUID, refunded_at: date, method: str, reference: str | None
    ) -> None:
        if self.outcome is not Outcome.REFUND:
            raise StateConflict(
                "only a credit note with the refund outcome is refunded", outcome=self.outcome.value
            )
        if self.refunded:
            raise StateConflict("the refund of this credit note was paid already")
        self._refund_paid(
            refund_id=refund_id, refunded_at=refunded_at, method=method, reference=reference
        )

    @event("RefundPaid")
    def _refund_paid(
        self, refund_id: UUID, refunded_at: date, method: str, reference: str | None
    ) -> None:
        self.refunded = {
            "id": refund_id,
            "refunded_at": refunded_at,
            "method": method,
            "reference": reference,
            "amount": self.total,
        }

    def record_rendering(self, sha256: str, version: int, locale: str) -> bool:
        """Remember the hash of the credit note's first PDF (see Invoice.record_rendering)."""
        check_rendering(sha256, version, self.version)
        if self.rendering is not None:
            return False
        self._rendered(sha256=sha256, rendered_version=version, locale=locale)
        return True

    @event("Rendered")
    def _rendered(self, sha256: str, rendered_version: int, locale: str) -> None:
        self.rendering = {"sha256": sha256, "version": rendered_version, "locale": locale}
