"""Commands and reads of invoices: drafting, finalizing, payments, history."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.commands.base import Numbering, Outcome
from ledger.commands.invoice_taxation import FinalTax, InvoiceTaxation, line_input
from ledger.context import CommandContext
from ledger.domain.base import LedgerAggregate
from ledger.domain.customer import Customer
from ledger.domain.customer_account import CustomerAccount
from ledger.domain.invoice import Invoice, Status
from ledger.domain.payment import Payment
from ledger.domain.plan_limits import INVOICES_PER_MONTH
from ledger.domain.sequence import Sequence
from ledger.domain.tenant import Tenant
from ledger.errors import InvalidInput, NotFound, PlanLimitExceeded
from ledger.money import is_currency

INVOICE_SERIES = "invoice"


def freeze_invoice(
    invoice: Invoice,
    tenant: Tenant,
    customer: Customer,
    final: FinalTax,
    sequence: Sequence,
    issued_on: date,
    terms: int,
) -> None:
    """Finalize a decided invoice with the next number of its series; the caller issues
    that number (`sequence.issue`) once nothing else can fail. The tenant's plan may cap
    the invoices finalized a month: the series' Sequence counts them."""
    cap = tenant.cap(INVOICES_PER_MONTH)
    used = sequence.issued_in_month_of(issued_on)
    if cap is not None and used >= cap:
        raise PlanLimitExceeded(
            f"the plan allows {cap} invoices per month; {used} finalized in {issued_on:%Y-%m}",
            limit=INVOICES_PER_MONTH,
            cap=cap,
            used=used,
            period=f"{issued_on:%Y-%m}",
        )
    prefix = tenant.profile["invoice_prefix"]
    invoice.finalize(
        number=sequence.next_number(prefix, issued_on),
        issue_date=issued_on,
        due_date=issued_on + timedelta(days=terms),
        seller=tenant.seller_snapshot(),
        buyer=customer.buyer_snapshot(),
        taxed_lines=final.taxed.lines,
        notes=final.taxed.notes,
        exchange_rate=final.exchange_rate,
        accounting_currency=final.accounting_currency,
        advisories=final.taxed.advisories,
    )


def issue_day(requested: date | None, what: str) -> date:
    """The date a document is issued on: today (UTC) unless the client names one.

    A document dated in the future would take a number from next year's series and sit
    there, out of order, until that day; one day of slack lets a client a time zone ahead
    of UTC say "today"."""
    today = datetime.now(UTC).date()
    issued_on = requested or today
    if issued_on > today + timedelta(days=1):
        raise InvalidInput(f"{what} cannot be issued in the future", field="issue_date")
    return issued_on


class InvoiceCommands(InvoiceTaxation):
    # -- invoices: drafting ----------------------------------------------------

    def draft_invoice(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        lines: list[dict[str, Any]],
        currency: str | None = None,
        supply_date: date | None = None,
        due_days: int | None = None,
        memo: str | None = None,
    ) -> Invoice:
        if currency is not None and not is_currency(currency):
            raise InvalidInput(f"unknown currency {currency!r}", field="currency")

        def attempt() -> Outcome[Invoice]:
            assert ctx.tenant_id is not None
            self.repository.prefetch([ctx.tenant_id, customer_id])
            tenant = self.tenant(ctx)
            try:
                customer = self.customer(ctx, customer_id)
            except NotFound:
                raise InvalidInput(f"no customer {customer_id}", field="customer_id") from None
            customer.require_not_erased()
            decided = self._decided_lines(tenant, customer, lines, supply_date)
            invoice = Invoice(
                tenant_id=ctx.tenant_id,
                customer_id=customer_id,
                currency=currency or tenant.profile["currency"],
                lines=[{**line, "id": uuid4()} for line in decided],
                supply_date=supply_date,
                due_days=due_days,
                memo=memo,
            )
            return Outcome(invoice, [invoice])

        return self._execute(ctx, attempt)

    def _change_invoice(
        self, ctx: CommandContext, invoice_id: UUID, change: Callable[[Invoice], object]
    ) -> Invoice:
        def attempt() -> Outcome[Invoice]:
            invoice = self._load_for_change(ctx, Invoice, invoice_id)
            _refuse_discarded(invoice)
            change(invoice)
            return Outcome(invoice, [invoice])

        return self._execute(ctx, attempt)

    def add_invoice_line(
        self, ctx: CommandContext, invoice_id: UUID, line: dict[str, Any]
    ) -> Invoice:
        def change(invoice: Invoice) -> None:
            customer = self._load(ctx, Customer, invoice.customer_id)
            [decided] = self._decided_lines(self.tenant(ctx), customer, [line], invoice.supply_date)
            invoice.add_line(decided)

        return self._change_invoice(ctx, invoice_id, change)

    def change_invoice_line(
        self, ctx: CommandContext, invoice_id: UUID, line_id: UUID, changes: dict[str, Any]
    ) -> Invoice:
        def change(invoice: Invoice) -> None:
            current = next((ln for ln in invoice.lines if ln["id"] == line_id), None)
            if current is None:
                raise NotFound(f"invoice {invoice_id} has no line {line_id}")
            customer = self._load(ctx, Customer, invoice.customer_id)
            [merged] = self._decided_lines(
                self.tenant(ctx),
                customer,
                [{**line_input(current), **requested(changes)}],
                invoice.supply_date,
            )
            invoice.change_line(line_id, merged)

        return self._change_invoice(ctx, invoice_id, change)

    def remove_invoice_line(self, ctx: CommandContext, invoice_id: UUID, line_id: UUID) -> Invoice:
        return self._change_invoice(ctx, invoice_id, lambda inv: inv.remove_line(line_id))

    def discard_invoice(self, ctx: CommandContext, invoice_id: UUID) -> Invoice:
        return self._change_invoice(ctx, invoice_id, lambda inv: inv.discard())

    # -- invoices: finalizing and after ----------------------------------------

    def finalize_invoice(
        self,
        ctx: CommandContext,
        invoice_id: UUID,
        issue_date: date | None = None,
        exchange_rate: Decimal | None = None,
    ) -> Invoice:
        """Number and freeze the invoice; its tax is decided now, on the supply date, and
        never again."""
        assert ctx.tenant_id is not None
        issued_on = issue_day(issue_date, "an invoice")

        def attempt() -> Outcome[Invoice]:
            # Everything is read and decided here, concurrently with other finalizations;
            # only the numbering is serialized (see GroupCommit), and the save checks every
            # version read here.
            assert ctx.tenant_id is not None
            self._prefetch_for_finalizing(ctx.tenant_id, invoice_id)
            invoice = self._load_for_change(ctx, Invoice, invoice_id)
            _refuse_discarded(invoice)
            tenant = self.tenant(ctx)
            customer = self._load(ctx, Customer, invoice.customer_id)
            invoice.check_finalizable()  # before a number is taken
            final = self._final_tax(
                tenant, customer, invoice, invoice.supply_date or issued_on, exchange_rate
            )
            account = self._account(ctx.tenant_id, invoice.customer_id)
            prefix = tenant.profile["invoice_prefix"]
            terms = invoice.due_days
            if terms is None:
                terms = tenant.profile["payment_terms_days"]
            saved: list[Aggregate] = [invoice]
            if final.tax_year is not None:
                saved.append(final.tax_year)
            if account.credit_in(invoice.currency) > 0:
                saved.append(account)

            def number(sequence: Sequence) -> None:
                freeze_invoice(invoice, tenant, customer, final, sequence, issued_on, terms)
                # The customer's credit balance settles what it can of a new invoice.
                credit = min(account.credit_in(invoice.currency), invoice.amount_due)
                if credit > 0:
                    invoice.apply_customer_credit(credit, issued_on)
                    account.take_credit(invoice.currency, credit, "invoice", invoice.id, issued_on)
                sequence.issue(invoice.id, prefix, issued_on)

            numbering = Numbering(ctx.tenant_id, INVOICE_SERIES, issued_on.year, number)
            return Outcome(invoice, saved, numbering)

        return self._execute(ctx, attempt)

    def _prefetch_for_finalizing(self, tenant_id: UUID, invoice_id: UUID) -> None:
        """What finalizing reads, in one query: the invoice, the tenant, the customer and the
        customer's account (the customer known from the cached invoice, if it is cached)."""
        ids = [invoice_id, tenant_id]
        held = self.repository.held(invoice_id)
        if isinstance(held, Invoice):
            ids += [held.customer_id, CustomerAccount.create_id(held.customer_id)]
        self.repository.prefetch(ids)

    def record_payment(
        self,
        ctx: CommandContext,
        invoice_id: UUID,
        amount: Decimal,
        paid_at: date,
        method: str,
        reference: str | None = None,
    ) -> Invoice:
        """A payment of one invoice: a Payment allocated wholly to it."""

        def attempt() -> Outcome[Invoice]:
            assert ctx.tenant_id is not None
            invoice = self._load_for_change(ctx, Invoice, invoice_id)
            _refuse_discarded(invoice)
            payment = Payment(
                tenant_id=ctx.tenant_id,
                customer_id=invoice.customer_id,
                amount=amount,
                currency=invoice.currency,
                paid_at=paid_at,
                method=method,
                reference=reference,
                allocations=[{"invoice_id": invoice.id, "amount": amount}],
                unallocated=Decimal(0),
            )
            invoice.record_payment(amount, paid_at, method, reference, payment.id)
            return Outcome(invoice, [invoice, payment])

        return self._execute(ctx, attempt)

    def void_invoice(self, ctx: CommandContext, invoice_id: UUID, reason: str) -> Invoice:
        return self._change_invoice(ctx, invoice_id, lambda inv: inv.void(reason))

    def mark_uncollectible(self, ctx: CommandContext, invoice_id: UUID) -> Invoice:
        return self._change_invoice(ctx, invoice_id, lambda inv: inv.mark_uncollectible())

    # -- invoices: reading -----------------------------------------------------

    def invoice(
        self,
        ctx: CommandContext,
        invoice_id: UUID,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> Invoice:
        """The invoice now, as of a version, or as it stood at an instant."""
        current = self._load(ctx, Invoice, invoice_id)
        if version is None and as_of is None:
            _refuse_discarded(current)
            return current
        if as_of is not None:
            version = self._version_at(invoice_id, as_of)
        assert version is not None
        if not 1 <= version <= current.version:
            raise NotFound(f"invoice {invoice_id} has no version {version}")
        past: Aggregate = self.repository.get(invoice_id, version=version)
        assert isinstance(past, Invoice)
        return past

    def _version_at(self, aggregate_id: UUID, as_of: datetime) -> int:
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        version = 0
        for domain_event in self.events.get(aggregate_id):
            assert isinstance(domain_event, LedgerAggregate.Event)
            if domain_event.timestamp > as_of:
                break
            version = domain_event.originator_version
        if version == 0:
            raise NotFound(f"invoice {aggregate_id} did not exist at {as_of.isoformat()}")
        return version

    def history(
        self, ctx: CommandContext, cls: type[LedgerAggregate], aggregate_id: UUID
    ) -> Iterable[LedgerAggregate.Event]:
        """Every event of one of the tenant's aggregates, oldest first."""
        self._load(ctx, cls, aggregate_id)
        return self.events.get(aggregate_id)  # type: ignore[return-value]


def requested(changes: dict[str, Any]) -> dict[str, Any]:
    """A line change's `tax_rate` is a new request for that rate."""
    return {("requested_tax_rate" if k == "tax_rate" else k): v for k, v in changes.items()}


def _refuse_discarded(invoice: Invoice) -> None:
    if invoice.status is Status.DISCARDED:
        raise NotFound(f"invoice {invoice.id} was discarded")
