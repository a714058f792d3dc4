"""The sales invoice: drafted and edited, finalized once, then only paid, voided or written off."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, check_rendering
from ledger.errors import (
    CreditExceedsInvoice,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PaymentExceedsAmountDue,
)
from ledger.money import fits_minor_units, minor_units, zero
from ledger.totals import Totals, compute_totals, line_net

MAX_LINES = 1000


class Status(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"
    DISCARDED = "discarded"


PAYABLE = (Status.OPEN, Status.UNCOLLECTIBLE)


class Invoice(LedgerAggregate):
    """A sales invoice. Lines carry their decided tax (category, rate, country); the
    Finalized event freezes number, dates, parties, lines with nets, and totals."""

    # Defaults for state that older snapshots do not have.
    exchange_rate: Decimal | None = None
    accounting_currency: str | None = None
    advisories: tuple[str, ...] = ()
    rendering: dict[str, Any] | None = None

    class Finalized(LedgerAggregate.Event):
        """The invoice was numbered and frozen. Version 2 added the exchange rate into the
        tenant's (accounting) currency and the tax advisories."""

        class_version = 2

        number: str
        issue_date: date
        due_date: date
        supply_date: date
        seller: dict[str, Any]
        buyer: dict[str, Any]
        lines: list[dict[str, Any]]
        tax_breakdown: list[dict[str, Any]]
        subtotal: Decimal
        tax_total: Decimal
        total: Decimal
        notes: list[str]
        exchange_rate: Decimal | None
        accounting_currency: str | None
        advisories: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Before version 2 every invoice was in the tenant's currency.
            state["exchange_rate"] = None
            state["accounting_currency"] = None
            state["advisories"] = []

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Drafted")
    def __init__(
        self,
        tenant_id: UUID,
        customer_id: UUID,
        currency: str,
        lines: list[dict[str, Any]],
        supply_date: date | None,
        due_days: int | None,
        memo: str | None,
        timestamp: datetime | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.currency = currency
        self.lines = [dict(line) for line in lines]
        self.supply_date = supply_date
        self.due_days = due_days
        self.memo = memo
        self.status = Status.DRAFT
        self.created_at = timestamp
        self.number: str | None = None
        self.issue_date: date | None = None
        self.due_date: date | None = None
        self.seller: dict[str, Any] | None = None
        self.buyer: dict[str, Any] | None = None
        self.finalized_at: datetime | None = None
        self.frozen: Totals | None = None
        self.amount_paid = zero(currency)
        self.amount_credited = zero(currency)
        # Credits that settle the amount due: reduce_due credit notes and customer credit.
        self.settled_by_credit = zero(currency)
        # Credit notes with the refund outcome, capped by what was paid.
        self.refund_credited = zero(currency)
        self.credited_lines: dict[UUID, dict[str, Decimal]] = {}
        self.credited_groups: dict[tuple[str, str, Decimal], dict[str, Decimal]] = {}
        self.credits: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.void_reason: str | None = None
        # The first PDF of the finalized invoice: {sha256, version, locale}.
        self.rendering: dict[str, Any] | None = None

    # -- reading ---------------------------------------------------------------

    def priced_lines(self) -> list[dict[str, Any]]:
        """Lines with their net amount (frozen once finalized)."""
        if self.frozen is not None:
            return self.lines
        return [
            {**line, "net_amount": line_net(line["quantity"], line["unit_price"], self.currency)}
            for line in self.lines
        ]

    def totals(self) -> Totals:
        if self.frozen is not None:
            return self.frozen
        return compute_totals(self.priced_lines(), self.currency)

    @property
    def amount_due(self) -> Decimal:
        if self.status in (Status.DRAFT, Status.VOID, Status.DISCARDED):
            return zero(self.currency)
        return self.totals().total - self.amount_paid - self.settled_by_credit

    # -- editing a draft -------------------------------------------------------

    def _require(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            raise InvalidTransition(self.status.value, action)

    def add_line(self, line: dict[str, Any]) -> UUID:
        self._require("add a line to", Status.DRAFT)
        if len(self.lines) >= MAX_LINES:
            raise InvalidInput(f"an invoice has at most {MAX_LINES} lines")
        line_id = uuid4()
        self._line_added(line={**line, "id": line_id})
        return line_id

    @event("LineAdded")
    def _line_added(self, line: dict[str, Any]) -> None:
        self.lines.append(dict(line))

    def change_line(self, line_id: UUID, changes: dict[str, Any]) -> None:
        self._require("change a line of", Status.DRAFT)
        current = self._line(line_id)
        changed = {k: v for k, v in changes.items() if current.get(k) != v}
        if changed:
            self._line_changed(line_id=line_id, changes=changed)

    @event("LineChanged")
    def _line_changed(self, line_id: UUID, changes: dict[str, Any]) -> None:
        self.lines = [{**line, **changes} if line["id"] == line_id else line for line in self.lines]

    def remove_line(self, line_id: UUID) -> None:
        self._require("remove a line of", Status.DRAFT)
        self._line(line_id)
        self._line_removed(line_id=line_id)

    @event("LineRemoved")
    def _line_removed(self, line_id: UUID) -> None:
        self.lines = [line for line in self.lines if line["id"] != line_id]

    def _line(self, line_id: UUID) -> dict[str, Any]:
        for line in self.lines:
            if line["id"] == line_id:
                return line
        raise NotFound(f"invoice {self.id} has no line {line_id}")

    def discard(self) -> None:
        self._require("discard", Status.DRAFT)
        self._discarded()

    @event("Discarded")
    def _discarded(self) -> None:
        self.status = Status.DISCARDED

    # -- finalizing ------------------------------------------------------------

    def check_finalizable(self) -> None:
        self._require("finalize", Status.DRAFT)
        if not self.lines:
            raise InvalidTransition("without lines", "finalize")

    def finalize(
        self,
        number: str,
        issue_date: date,
        due_date: date,
        seller: dict[str, Any],
        buyer: dict[str, Any],
        taxed_lines: list[dict[str, Any]] | None = None,
        notes: list[str] | None = None,
        exchange_rate: Decimal | None = None,
        accounting_currency: str | None = None,
        advisories: list[str] | None = None,
    ) -> None:
        """Freeze the invoice. `taxed_lines` are the priced lines with the tax decided at
        finalization (default: the draft's own decisions)."""
        self.check_finalizable()
        lines = taxed_lines if taxed_lines is not None else self.priced_lines()
        totals = compute_totals(lines, self.currency)
        self._finalized(
            number=number,
            issue_date=issue_date,
            due_date=due_date,
            supply_date=self.supply_date or issue_date,
            seller=seller,
            buyer=buyer,
            lines=lines,
            tax_breakdown=totals.tax_breakdown,
            subtotal=totals.subtotal,
            tax_total=totals.tax_total,
            total=totals.total,
            notes=notes or [],
            exchange_rate=exchange_rate,
            accounting_currency=accounting_currency,
            advisories=advisories or [],
        )

    @event(Finalized)
    def _finalized(
        self,
        number: str,
        issue_date: date,
        due_date: date,
        supply_date: date,
        seller: dict[str, Any],
        buyer: dict[str, Any],
        lines: list[dict[str, Any]],
        tax_breakdown: list[dict[str, Any]],
        subtotal: Decimal,
        tax_total: Decimal,
        total: Decimal,
        notes: list[str],
        exchange_rate: Decimal | None,
        accounting_currency: str | None,
        advisories: list[str],
        timestamp: datetime | None = None,
    ) -> None:
        self.number = number
        self.issue_date = issue_date
        self.due_date = due_date
        self.supply_date = supply_date
        self.seller = seller
        self.buyer = buyer
        self.lines = lines
        self.frozen = Totals(tax_breakdown, subtotal, tax_total, total)
        self.notes = list(notes)
        self.exchange_rate = exchange_rate
        self.accounting_currency = accounting_currency
        self.advisories = tuple(advisories)
        self.finalized_at = timestamp
        self.status = Status.OPEN if total > 0 else Status.PAID

    # -- after finalization ----------------------------------------------------

    def record_payment(
        self,
        amount: Decimal,
        paid_at: date,
        method: str,
        reference: str | None,
        payment_id: UUID | None = None,
    ) -> UUID:
        self._require("record a payment on", *PAYABLE)
        if amount <= 0:
            raise InvalidInput("a payment amount must be positive")
        if not fits_minor_units(amount, self.currency):
            raise InvalidInput(
                f"{self.currency} amounts have at most {minor_units(self.currency)} decimals"
            )
        if amount > self.amount_due:
            raise PaymentExceedsAmountDue(
                f"payment of {amount} exceeds the amount due of {self.amount_due}",
                amount_due=str(self.amount_due),
            )
        payment_id = payment_id or uuid4()
        self._payment_recorded(
            payment_id=payment_id,
            amount=amount,
            paid_at=paid_at,
            method=method,
            reference=reference,
        )
        return payment_id

    @event("PaymentRecorded")
    def _payment_recorded(
        self,
        payment_id: UUID,
        amount: Decimal,
        paid_at: date,
        method: str,
        reference: str | None,
    ) -> None:
        self.amount_paid += amount
        self.payments.append(
            {
                "id": payment_id,
                "amount": amount,
                "paid_at": paid_at,
                "method": method,
                "reference": reference,
            }
        )
        self._settle_if_nothing_due()

    def void(self, reason: str) -> None:
        self._require("void", Status.OPEN)
        if self.payments:
            raise InvalidTransition("partly paid", "void")
        if self.credits:
            raise InvalidTransition("credited", "void")
        self._voided(reason=reason)

    @event("Voided")
    def _voided(self, reason: str) -> None:
        self.status = Status.VOID
        self.void_reason = reason

    def mark_uncollectible(self) -> None:
        self._require("mark uncollectible", Status.OPEN)
        self._marked_uncollectible()

    @event("MarkedUncollectible")
    def _marked_uncollectible(self) -> None:
        self.status = Status.UNCOLLECTIBLE

    def record_rendering(self, sha256: str, version: int, locale: str) -> bool:
        """Remember the hash of the first PDF of the finalized invoice, so that any later
        rendering of that version can be checked against it. Later renderings record
        nothing: the first one is the document the customer received."""
        if self.status in (Status.DRAFT, Status.DISCARDED):
            raise InvalidTransition(self.status.value, "record a rendering")
        check_rendering(sha256, version, self.version)
        if self.rendering is not None:
            return False
        self._rendered(sha256=sha256, rendered_version=version, locale=locale)
        return True

    @event("Rendered")
    def _rendered(self, sha256: str, rendered_version: int, locale: str) -> None:
        self.rendering = {"sha256": sha256, "version": rendered_version, "locale": locale}

    # -- credits ---------------------------------------------------------------

    def check_credit(self, outcome: str, amount: Decimal) -> None:
        """Refuse a credit note this invoice cannot take, before a number is issued."""
        if self.status not in (Status.OPEN, Status.PAID, Status.UNCOLLECTIBLE):
            raise InvalidTransition(self.status.value, "credit")
        if self.amount_credited + amount > self.totals().total:
            raise CreditExceedsInvoice(
                f"credits would total {self.amount_credited + amount}, above the invoice "
                f"total of {self.totals().total}",
                amount_creditable=str(self.totals().total - self.amount_credited),
            )
        if outcome == "reduce_due" and amount > self.amount_due:
            raise CreditExceedsInvoice(
                f"the credit of {amount} is more than the {self.amount_due} still due; "
                "choose the refund or credit_balance outcome",
                amount_due=str(self.amount_due),
            )
        if outcome == "refund" and amount > self.amount_paid - self.refund_credited:
            raise CreditExceedsInvoice(
                f"a refund of {amount} is more than the "
                f"{self.amount_paid - self.refund_credited} paid and not yet refunded",
            )

    def apply_credit(
        self,
        credit_note_id: UUID,
        number: str,
        issue_date: date,
        outcome: str,
        lines: list[dict[str, Any]],
        tax_breakdown: list[dict[str, Any]],
        total: Decimal,
    ) -> None:
        self.check_credit(outcome, total)
        self._credit_applied(
            credit_note_id=credit_note_id,
            number=number,
            issue_date=issue_date,
            outcome=outcome,
            lines=[
                {
                    "invoice_line_id": ln["invoice_line_id"],
                    "quantity": ln["quantity"],
                    "net": ln["net_amount"],
                }
                for ln in lines
            ],
            groups=[
                {
                    "tax_country": g["tax_country"],
                    "tax_category": g["tax_category"],
                    "tax_rate": g["tax_rate"],
                    "net": g["taxable_amount"],
                    "tax": g["tax_amount"],
                }
                for g in tax_breakdown
            ],
            total=total,
        )

    @event("CreditApplied")
    def _credit_applied(
        self,
        credit_note_id: UUID,
        number: str,
        issue_date: date,
        outcome: str,
        lines: list[dict[str, Any]],
        groups: list[dict[str, Any]],
        total: Decimal,
    ) -> None:
        for line in lines:
            done = self.credited_lines.setdefault(
                line["invoice_line_id"], {"quantity": Decimal(0), "net": Decimal(0)}
            )
            done["quantity"] += line["quantity"]
            done["net"] += line["net"]
        for group in groups:
            key = (group["tax_country"] or "", group["tax_category"], group["tax_rate"])
            done = self.credited_groups.setdefault(key, {"net": Decimal(0), "tax": Decimal(0)})
            done["net"] += group["net"]
            done["tax"] += group["tax"]
        self.amount_credited += total
        if outcome == "reduce_due":
            self.settled_by_credit += total
        elif outcome == "refund":
            self.refund_credited += total
        self.credits.append(
            {
                "credit_note_id": credit_note_id,
                "number": number,
                "issue_date": issue_date,
                "outcome": outcome,
                "total": total,
            }
        )
        self._settle_if_nothing_due()

    def apply_customer_credit(self, amount: Decimal, applied_on: date) -> None:
        """Consume the customer's credit balance towards this invoice."""
        self._require("apply customer credit to", *PAYABLE)
        if not 0 < amount <= self.amount_due:
            raise InvalidInput(f"customer credit of {amount} does not fit the amount due")
        self._customer_credit_applied(amount=amount, applied_on=applied_on)

    @event("CustomerCreditApplied")
    def _customer_credit_applied(self, amount: Decimal, applied_on: date) -> None:
        self.settled_by_credit += amount
        self._settle_if_nothing_due()

    def _settle_if_nothing_due(self) -> None:
        if self.status in PAYABLE and self.amount_due == 0:
            self.status = Status.PAID
