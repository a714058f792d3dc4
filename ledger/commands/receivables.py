"""Commands on what customers owe: credit notes, payments over invoices, refunds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from ledger.commands.base import Outcome
from ledger.commands.invoices import InvoiceCommands, issue_day
from ledger.context import CommandContext
from ledger.domain.credit_note import (
    CreditComputation,
    CreditNote,
    CreditRequest,
    compute_credit,
)
from ledger.domain.customer import Customer
from ledger.domain.customer_account import CustomerAccount
from ledger.domain.invoice import Invoice
from ledger.domain.payment import Payment
from ledger.domain.sequence import Sequence
from ledger.errors import InvalidInput, NotFound
from ledger.money import fits_minor_units, is_currency

CREDIT_NOTE_SERIES = "credit_note"


class ReceivableCommands(InvoiceCommands):
    # -- credit notes ----------------------------------------------------------

    def issue_credit_note(
        self,
        ctx: CommandContext,
        invoice_id: UUID,
        reason: str,
        outcome: str,
        requests: list[CreditRequest] | None,
        issue_date: date | None = None,
    ) -> CreditNote:
        """Credit lines of an invoice (or all that remains, with `requests=None`)."""
        assert ctx.tenant_id is not None
        issued_on = issue_day(issue_date, "a credit note")
        series_id = Sequence.create_id(ctx.tenant_id, CREDIT_NOTE_SERIES, issued_on.year)

        def attempt() -> Outcome[CreditNote]:
            assert ctx.tenant_id is not None
            invoice = self._load_for_change(ctx, Invoice, invoice_id)
            if invoice.issue_date is not None and issued_on < invoice.issue_date:
                raise InvalidInput("a credit note cannot predate its invoice", field="issue_date")
            credit = compute_credit(
                invoice.priced_lines(),
                invoice.credited_lines,
                invoice.credited_groups,
                invoice.currency,
                requests,
            )
            sequence = self._sequence(ctx.tenant_id, CREDIT_NOTE_SERIES, issued_on.year)
            prefix = self.tenant(ctx).profile["credit_note_prefix"]
            note, saved = self._issue_credit(
                invoice, credit, sequence, prefix, reason, outcome, issued_on
            )
            return Outcome(note, saved)

        with self._series_lock(series_id):
            return self._execute(ctx, attempt)

    def _issue_credit(
        self,
        invoice: Invoice,
        credit: CreditComputation,
        sequence: Sequence,
        prefix: str,
        reason: str,
        outcome: str,
        issued_on: date,
    ) -> tuple[CreditNote, list[Any]]:
        """Number a priced credit from `sequence`, apply it to the invoice and, unless it
        reduces what is due, to the customer's account: the note and what to save with it."""
        invoice.check_credit(outcome, credit.total)  # before a number is taken
        number = sequence.next_number(prefix, issued_on)
        assert invoice.number is not None
        assert invoice.issue_date is not None
        note = CreditNote(
            tenant_id=invoice.tenant_id,
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            number=number,
            invoice_number=invoice.number,
            invoice_issue_date=invoice.issue_date,
            issue_date=issued_on,
            currency=invoice.currency,
            reason=reason,
            outcome=outcome,
            lines=credit.lines,
            tax_breakdown=credit.tax_breakdown,
            subtotal=credit.subtotal,
            tax_total=credit.tax_total,
            total=credit.total,
            seller=invoice.seller or {},
            buyer=invoice.buyer or {},
            notes=invoice.notes,
            exchange_rate=invoice.exchange_rate,
            accounting_currency=invoice.accounting_currency,
        )
        assert sequence.issue(note.id, prefix, issued_on) == number
        invoice.apply_credit(
            note.id, number, issued_on, outcome, credit.lines, credit.tax_breakdown, credit.total
        )
        saved: list[Any] = [note, invoice, sequence]
        if outcome != "reduce_due":
            account = self._account(invoice.tenant_id, invoice.customer_id)
            if outcome == "refund":
                account.owe_refund(invoice.currency, credit.total, note.id)
            else:
                account.add_credit(
                    invoice.currency, credit.total, "credit_note", note.id, issued_on
                )
            saved.append(account)
        return note, saved

    def credit_note(self, ctx: CommandContext, credit_note_id: UUID) -> CreditNote:
        return self._load(ctx, CreditNote, credit_note_id)

    def pay_credit_note_refund(
        self,
        ctx: CommandContext,
        credit_note_id: UUID,
        refunded_at: date,
        method: str,
        reference: str | None,
    ) -> CreditNote:
        """Record that the refund a credit note owes was paid out to the customer."""

        def attempt() -> Outcome[CreditNote]:
            assert ctx.tenant_id is not None
            note = self._load_for_change(ctx, CreditNote, credit_note_id)
            refund_id = _refund_id(note.id)
            note.pay_refund(refund_id, refunded_at, method, reference)
            account = self._account(ctx.tenant_id, note.customer_id)
            account.settle_refund(note.currency, note.total, note.id, refunded_at)
            return Outcome(note, [note, account])

        return self._execute(ctx, attempt)

    # -- payments --------------------------------------------------------------

    def receive_payment(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        amount: Decimal,
        currency: str,
        paid_at: date,
        method: str,
        reference: str | None,
        allocations: list[tuple[UUID, Decimal]],
    ) -> Payment:
        """A payment over several invoices; what is not allocated becomes customer credit."""
        if not is_currency(currency):
            raise InvalidInput(f"unknown currency {currency!r}", field="currency")
        _check_amount(amount, currency)
        if len({invoice_id for invoice_id, _ in allocations}) != len(allocations):
            raise InvalidInput("an invoice may appear once per payment", field="allocations")
        allocated = sum((a for _, a in allocations), Decimal(0))
        if allocated > amount:
            raise InvalidInput(
                f"allocations of {allocated} exceed the payment of {amount}", field="allocations"
            )

        def attempt() -> Outcome[Payment]:
            assert ctx.tenant_id is not None
            self._load(ctx, Customer, customer_id)
            invoices = [
                self._invoice_of(ctx, invoice_id, customer_id, currency)
                for invoice_id, _ in allocations
            ]
            payment = Payment(
                tenant_id=ctx.tenant_id,
                customer_id=customer_id,
                amount=amount,
                currency=currency,
                paid_at=paid_at,
                method=method,
                reference=reference,
                allocations=[{"invoice_id": i, "amount": a} for i, a in allocations],
                unallocated=amount - allocated,
            )
            for invoice, (_, share) in zip(invoices, allocations, strict=True):
                _check_amount(share, currency)
                invoice.record_payment(share, paid_at, method, reference, payment.id)
            saved: list[Any] = [payment, *invoices]
            if payment.unallocated > 0:
                account = self._account(ctx.tenant_id, customer_id)
                account.add_credit(currency, payment.unallocated, "payment", payment.id, paid_at)
                saved.append(account)
            return Outcome(payment, saved)

        return self._execute(ctx, attempt)

    def _invoice_of(
        self, ctx: CommandContext, invoice_id: UUID, customer_id: UUID, currency: str
    ) -> Invoice:
        try:
            invoice = self._load(ctx, Invoice, invoice_id)
        except NotFound:
            raise InvalidInput(f"no invoice {invoice_id}", field="allocations") from None
        if invoice.customer_id != customer_id or invoice.currency != currency:
            raise InvalidInput(
                f"invoice {invoice_id} is not one of this customer's {currency} invoices",
                field="allocations",
            )
        return invoice

    def payment(self, ctx: CommandContext, payment_id: UUID) -> Payment:
        return self._load(ctx, Payment, payment_id)

    def refund_payment(
        self,
        ctx: CommandContext,
        payment_id: UUID,
        amount: Decimal,
        refunded_at: date,
        method: str,
        reference: str | None,
    ) -> Payment:
        """Pay back the unallocated part of a payment (it is customer credit until then)."""

        def attempt() -> Outcome[Payment]:
            assert ctx.tenant_id is not None
            payment = self._load_for_change(ctx, Payment, payment_id)
            _check_amount(amount, payment.currency)
            refund_id = payment.refund(amount, refunded_at, method, reference)
            account = self._account(ctx.tenant_id, payment.customer_id)
            account.take_credit(payment.currency, amount, "refund", refund_id, refunded_at)
            return Outcome(payment, [payment, account])

        return self._execute(ctx, attempt)

    def customer_account(self, ctx: CommandContext, customer_id: UUID) -> CustomerAccount:
        assert ctx.tenant_id is not None
        self._load(ctx, Customer, customer_id)
        return self._account(ctx.tenant_id, customer_id)


def _check_amount(amount: Decimal, currency: str) -> None:
    if amount <= 0:
        raise InvalidInput("amounts must be positive", field="amount")
    if not fits_minor_units(amount, currency):
        raise InvalidInput(
            f"{currency} amounts have no more decimals than its minor unit", field="amount"
        )


def _refund_id(credit_note_id: UUID) -> UUID:
    """A credit note is refunded once, so its refund's id follows from its own."""
    return uuid5(credit_note_id, "refund")
