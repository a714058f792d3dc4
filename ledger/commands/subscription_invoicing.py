"""The documents subscriptions issue: invoices of periods and of prorations charged at
once, and credit notes for downgrades credited at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from weakref import WeakValueDictionary

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import Numbering
from ledger.commands.documents import DocumentCommands
from ledger.commands.invoices import INVOICE_SERIES, freeze_invoice
from ledger.commands.receivables import CREDIT_NOTE_SERIES
from ledger.context import CommandContext
from ledger.domain.credit_note import CreditNote, CreditRequest, compute_credit
from ledger.domain.customer import Customer
from ledger.domain.invoice import PAYABLE, Invoice
from ledger.domain.sequence import Sequence
from ledger.domain.subscription import ProrationNotCreditable, Subscription
from ledger.domain.tenant import Tenant
from ledger.money import round_money
from ledger.totals import compute_totals

_INVOICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/subscription-invoice")


def invoice_id_of(subscription_id: UUID, boundary: int) -> UUID:
    """The invoice of a boundary has one possible id: a second attempt to bill it, in any
    process, conflicts with the first instead of issuing another invoice."""
    return uuid5(_INVOICE_NAMESPACE, f"{subscription_id}/{boundary}")


def proration_invoice_id(subscription: Subscription) -> UUID:
    """The invoice of a plan change charged at once, by the version it changes."""
    return uuid5(_INVOICE_NAMESPACE, f"{subscription.id}/change/{subscription.version}")


def line_id_of(invoice_id: UUID, index: int) -> UUID:
    return uuid5(invoice_id, str(index))


def net_of(lines: list[dict[str, Any]], currency: str) -> Decimal:
    """What lines come to before tax, each rounded as an invoice line is."""
    return sum(
        (round_money(ln["quantity"] * ln["unit_price"], currency) for ln in lines), Decimal(0)
    )


@dataclass(frozen=True)
class IssuedInvoice:
    """A subscription invoice ready to save: the aggregates and the numbering that
    finalizes it, and the customer credit it will take."""

    invoice: Invoice
    aggregates: list[Aggregate]
    numbering: Numbering
    credit_applied: Decimal


class SubscriptionInvoicing(DocumentCommands):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        # Invoices of commands in flight, so that the answer a command renders before its
        # save (kept under its Idempotency-Key) sees them as the one after it does. Weak:
        # once saved, the repository has them.
        self._being_issued: WeakValueDictionary[UUID, Invoice] = WeakValueDictionary()

    def issued_invoice(self, invoice_id: UUID) -> Invoice:
        """A subscription's invoice, also while the command issuing it is being saved."""
        try:
            invoice: Aggregate = self.repository.get(invoice_id)
        except AggregateNotFoundError:
            in_flight = self._being_issued.get(invoice_id)
            if in_flight is None:
                raise
            return in_flight
        assert isinstance(invoice, Invoice)
        return invoice

    def _issue_invoice(
        self,
        ctx: CommandContext,
        subscription: Subscription,
        invoice_id: UUID,
        lines: list[dict[str, Any]],
        day: date,
        memo: str,
    ) -> IssuedInvoice:
        """Draft, tax and (at save, through the numbering) finalize an invoice of the
        subscription dated `day`, or the series' last issue date if that is later (numbers
        follow dates). The customer's credit balance settles what it can of it, as it does
        for any invoice finalized."""
        assert ctx.tenant_id is not None
        tenant = self.tenant(ctx)
        customer = self._load(ctx, Customer, subscription.customer_id)
        invoice = self._subscription_invoice(
            tenant, customer, subscription, invoice_id, lines, day, memo
        )
        final = self._final_tax(tenant, customer, invoice, day, None)
        account = self._account(ctx.tenant_id, subscription.customer_id)
        # The total finalize will freeze (the same lines, the same sum), known before it.
        total = compute_totals(final.taxed.lines, invoice.currency).total
        currency = invoice.currency
        credit = round_money(max(min(account.credit_in(currency), total), Decimal(0)), currency)
        saved: list[Aggregate] = [invoice]
        if final.tax_year is not None:
            saved.append(final.tax_year)
        if credit > 0:
            saved.append(account)
        prefix = tenant.profile["invoice_prefix"]
        terms = int(tenant.profile["payment_terms_days"])

        def number(sequence: Sequence) -> None:
            issued_on = max(day, sequence.last_issue_date or day)
            freeze_invoice(invoice, tenant, customer, final, sequence, issued_on, terms)
            if credit > 0:
                invoice.apply_customer_credit(credit, issued_on)
                account.take_credit(invoice.currency, credit, "invoice", invoice.id, issued_on)
            sequence.issue(invoice.id, prefix, issued_on)

        numbering = Numbering(ctx.tenant_id, INVOICE_SERIES, day.year, number)
        self._being_issued[invoice.id] = invoice
        return IssuedInvoice(invoice, saved, numbering, credit)

    def _subscription_invoice(
        self,
        tenant: Tenant,
        customer: Customer,
        subscription: Subscription,
        invoice_id: UUID,
        lines: list[dict[str, Any]],
        day: date,
        memo: str,
    ) -> Invoice:
        decided = self._decided_lines(tenant, customer, lines, day)
        # `Invoice(...)` takes no id; `_create` does, and a subscription's invoice has one id.
        invoice: Invoice = Invoice._create(
            Invoice.Drafted,  # type: ignore[attr-defined]  # made by @event("Drafted")
            id=invoice_id,
            tenant_id=subscription.tenant_id,
            customer_id=subscription.customer_id,
            currency=subscription.currency,
            lines=[{**line, "id": line_id_of(invoice_id, n)} for n, line in enumerate(decided)],
            supply_date=day,
            due_days=None,
            memo=memo,
        )
        return invoice

    def _credit_downgrade(
        self, ctx: CommandContext, subscription: Subscription, amount: Decimal, on: date
    ) -> tuple[CreditNote, list[Any]]:
        """A credit note for `amount` (net) on the line that charged the base fee of the
        period holding `on`: it reduces what that invoice still asks for if it covers the
        credit, else it becomes the customer's credit balance, which their next invoices
        take."""
        assert ctx.tenant_id is not None
        fee = subscription.fee_lines.get(subscription.period_of(on))
        if fee is None:
            raise ProrationNotCreditable(
                "no invoice charged this period's fee, so there is nothing to credit at once; "
                "use proration next_invoice"
            )
        invoice = self._load(ctx, Invoice, fee["invoice_id"])
        credit = compute_credit(
            invoice.priced_lines(),
            invoice.credited_lines,
            invoice.credited_groups,
            invoice.currency,
            [CreditRequest(fee["line_id"], amount=amount)],
        )
        covered = invoice.status in PAYABLE and credit.total <= invoice.amount_due
        outcome = "reduce_due" if covered else "credit_balance"
        assert invoice.issue_date is not None
        issued_on = max(on, invoice.issue_date)
        sequence = self._sequence(ctx.tenant_id, CREDIT_NOTE_SERIES, issued_on.year)
        issued_on = max(issued_on, sequence.last_issue_date or issued_on)
        prefix = self.tenant(ctx).profile["credit_note_prefix"]
        reason = f"Plan change on {on.isoformat()}: unused time"
        return self._issue_credit(invoice, credit, sequence, prefix, reason, outcome, issued_on)
