"""A tenant's tax year: the running total of EU cross-border sales to consumers (OSS)."""

from __future__ import annotations

from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate

_TAX_YEAR_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/tax-year")


class TaxYear(LedgerAggregate):
    """Saved with each finalization that sells to EU consumers abroad, so the EUR 10,000
    distance-selling threshold is judged on every earlier invoice of the year."""

    @staticmethod
    def create_id(tenant_id: UUID, year: int) -> UUID:
        return uuid5(_TAX_YEAR_NAMESPACE, f"{tenant_id}/{year}")

    @event("Opened")
    def __init__(self, tenant_id: UUID, year: int) -> None:
        self.tenant_id = tenant_id
        self.year = year
        self.eu_b2c_sales = Decimal(0)

    def record_eu_b2c_sale(self, invoice_id: UUID, amount_eur: Decimal) -> None:
        if amount_eur:
            self._eu_b2c_sale_recorded(invoice_id=invoice_id, amount_eur=amount_eur)

    @event("EuB2CSaleRecorded")
    def _eu_b2c_sale_recorded(self, invoice_id: UUID, amount_eur: Decimal) -> None:
        self.eu_b2c_sales += amount_eur
