"""A payment received from a customer, allocated to invoices; the rest is customer credit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import StateConflict


class RefundExceedsPayment(StateConflict):
    """Raised when a refund is more than the payment's unallocated, unrefunded part."""

    code = "refund_exceeds_payment"


class Payment(LedgerAggregate):
    """Money received once, split over invoices. Only the unallocated part can be refunded;
    money allocated to an invoice comes back through a credit note first."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Received")
    def __init__(
        self,
        tenant_id: UUID,
        customer_id: UUID,
        amount: Decimal,
        currency: str,
        paid_at: date,
        method: str,
        reference: str | None,
        allocations: list[dict[str, Any]],
        unallocated: Decimal,
    ) -> None:
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.amount = amount
        self.currency = currency
        self.paid_at = paid_at
        self.method = method
        self.reference = reference
        self.allocations = allocations
        self.unallocated = unallocated
        self.refunds: list[dict[str, Any]] = []

    @property
    def refunded(self) -> Decimal:
        return sum((r["amount"] for r in self.refunds), Decimal(0))

    def refund(
        self, amount: Decimal, refunded_at: date, method: str, reference: str | None
    ) -> UUID:
        refundable = self.unallocated - self.refunded
        if amount > refundable:
            raise RefundExceedsPayment(
                f"only {refundable} of this payment is unallocated and not yet refunded",
                refundable=str(refundable),
            )
        refund_id = uuid4()
        self._refunded(
            refund_id=refund_id,
            amount=amount,
            refunded_at=refunded_at,
            method=method,
            reference=reference,
        )
        return refund_id

    @event("Refunded")
    def _refunded(
        self,
        refund_id: UUID,
        amount: Decimal,
        refunded_at: date,
        method: str,
        reference: str | None,
    ) -> None:
        self.refunds.append(
            {
                "id": refund_id,
                "amount": amount,
                "refunded_at": refunded_at,
                "method": method,
                "reference": reference,
            }
        )
