"""Deciding the tax of invoice lines: provisionally on drafts, for good at finalization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.customers import CustomerCommands
from ledger.commands.tenants import TenantCommands
from ledger.domain.customer import Customer
from ledger.domain.invoice import Invoice
from ledger.domain.tax_year import TaxYear
from ledger.domain.tenant import Tenant
from ledger.errors import InvalidInput
from ledger.money import round_money
from ledger.taxation import (
    DISTANCE_SALE_RULES,
    SalesToDate,
    TaxedLines,
    buyer_of,
    distance_sales,
    seller_of,
    tax_lines,
)

_INPUT_FIELDS = ("description", "quantity", "unit_price", "kind", "product_code", "tax_class")


def line_input(line: dict[str, Any]) -> dict[str, Any]:
    """What the client said about a line; a `tax_rate` it gave is a request, kept as such."""
    values = {field: line.get(field) for field in _INPUT_FIELDS}
    values["kind"] = values["kind"] or "services"
    # A stored draft line has both its request and the decided rate; a new one only `tax_rate`.
    if "requested_tax_rate" in line:
        values["requested_tax_rate"] = line["requested_tax_rate"]
    else:
        values["requested_tax_rate"] = line.get("tax_rate")
    return values


@dataclass(frozen=True)
class FinalTax:
    """The tax of an invoice as finalized, and the threshold bookkeeping it causes."""

    taxed: TaxedLines
    exchange_rate: Decimal
    accounting_currency: str
    tax_year: TaxYear | None


class InvoiceTaxation(TenantCommands, CustomerCommands):
    def _decided_lines(
        self,
        tenant: Tenant,
        customer: Customer,
        lines: list[dict[str, Any]],
        supply_date: date | None,
    ) -> list[dict[str, Any]]:
        """Draft lines with a provisional decision (final at finalization)."""
        on = supply_date or datetime.now(UTC).date()
        taxed = tax_lines(
            seller_of(tenant.profile, SalesToDate()),
            buyer_of(customer.profile),
            [line_input(line) for line in lines],
            on,
            _locale(tenant, customer),
        )
        return taxed.lines

    def _final_tax(
        self,
        tenant: Tenant,
        customer: Customer,
        invoice: Invoice,
        supply_date: date,
        exchange_rate: Decimal | None,
    ) -> FinalTax:
        accounting = tenant.profile["currency"]
        if invoice.currency == accounting:
            rate = Decimal(1)
        elif exchange_rate is None:
            raise InvalidInput(
                f"the invoice is in {invoice.currency} and the tenant accounts in {accounting}; "
                "give exchange_rate (1 invoice currency unit in the tenant's currency)",
                field="exchange_rate",
            )
        else:
            rate = exchange_rate
        buyer = buyer_of(customer.profile)
        lines = [
            {**line_input(line), "id": line["id"], "net_amount": line["net_amount"]}
            for line in invoice.priced_lines()
        ]
        language = _locale(tenant, customer)
        taxed = tax_lines(
            seller_of(tenant.profile, SalesToDate()), buyer, lines, supply_date, language
        )
        if not any(line["tax_rule"] in DISTANCE_SALE_RULES for line in taxed.lines):
            # The sales to date decide only distance sales: without one, the decision above
            # is final whatever they are, and the tax years need not be read.
            return FinalTax(taxed, rate, accounting, None)
        year = self._tax_year(tenant.id, supply_date.year)
        before = SalesToDate(
            year.eu_b2c_sales, self._tax_year(tenant.id, supply_date.year - 1).eu_b2c_sales
        )
        taxed = tax_lines(seller_of(tenant.profile, before), buyer, lines, supply_date, language)
        # The threshold counts the supply being decided, so decide again with it included.
        this_sale = self._in_eur(distance_sales(taxed.lines), invoice.currency, accounting, rate)
        recorded = None
        if this_sale:
            with_this = SalesToDate(before.current_year + this_sale, before.previous_year)
            taxed = tax_lines(
                seller_of(tenant.profile, with_this), buyer, lines, supply_date, language
            )
            year.record_eu_b2c_sale(
                invoice.id,
                self._in_eur(distance_sales(taxed.lines), invoice.currency, accounting, rate),
            )
            recorded = year
        return FinalTax(taxed, rate, accounting, recorded)

    @staticmethod
    def _in_eur(amount: Decimal, currency: str, accounting: str, rate: Decimal) -> Decimal:
        """EUR for the threshold: known when the invoice or the tenant's books are in EUR."""
        if currency == "EUR":
            return amount
        if accounting == "EUR":
            return round_money(amount * rate, "EUR")
        return Decimal(0)

    def _tax_year(self, tenant_id: UUID, year: int) -> TaxYear:
        try:
            found: Aggregate = self.repository.get(TaxYear.create_id(tenant_id, year))
        except AggregateNotFoundError:
            return TaxYear(tenant_id=tenant_id, year=year)
        assert isinstance(found, TaxYear)
        return found


def _locale(tenant: Tenant, customer: Customer) -> str:
    return str(customer.profile.get("locale") or tenant.profile.get("locale") or "en")
