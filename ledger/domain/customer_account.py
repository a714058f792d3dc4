"""A customer's account: credit balance and refunds owed, per currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import StateConflict

_ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/customer-account")


class InsufficientCredit(StateConflict):
    """Raised when more customer credit is consumed or refunded than the customer has."""

    code = "insufficient_customer_credit"


class CustomerAccount(LedgerAggregate):
    """What the tenant owes the customer outside any invoice: credit from credit notes and
    unallocated payments (consumed by later invoices or refunded), and refunds owed."""

    @staticmethod
    @lru_cache(maxsize=65536)  # a uuid5 is a SHA-1 and a UUID: asked several times a command
    def create_id(customer_id: UUID) -> UUID:
        return uuid5(_ACCOUNT_NAMESPACE, str(customer_id))

    @event("Opened")
    def __init__(self, tenant_id: UUID, customer_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.credit: dict[str, Decimal] = {}
        self.refunds_owed: dict[str, Decimal] = {}

    def credit_in(self, currency: str) -> Decimal:
        return self.credit.get(currency, Decimal(0))

    def add_credit(
        self, currency: str, amount: Decimal, source: str, source_id: UUID, effective_date: date
    ) -> None:
        self._credit_added(
            currency=currency,
            amount=amount,
            source=source,
            source_id=source_id,
            effective_date=effective_date,
        )

    @event("CreditAdded")
    def _credit_added(
        self, currency: str, amount: Decimal, source: str, source_id: UUID, effective_date: date
    ) -> None:
        self.credit[currency] = self.credit_in(currency) + amount

    def take_credit(
        self, currency: str, amount: Decimal, use: str, use_id: UUID, effective_date: date
    ) -> None:
        """Consume credit for an invoice (`use` "invoice") or pay it out ("refund")."""
        if amount > self.credit_in(currency):
            raise InsufficientCredit(
                f"the customer has {self.credit_in(currency)} {currency} of credit, not {amount}",
                available=str(self.credit_in(currency)),
            )
        self._credit_taken(
            currency=currency, amount=amount, use=use, use_id=use_id, effective_date=effective_date
        )

    @event("CreditTaken")
    def _credit_taken(
        self, currency: str, amount: Decimal, use: str, use_id: UUID, effective_date: date
    ) -> None:
        self.credit[currency] = self.credit_in(currency) - amount

    def owe_refund(self, currency: str, amount: Decimal, credit_note_id: UUID) -> None:
        self._refund_owed(currency=currency, amount=amount, credit_note_id=credit_note_id)

    @event("RefundOwed")
    def _refund_owed(self, currency: str, amount: Decimal, credit_note_id: UUID) -> None:
        self.refunds_owed[currency] = self.refunds_owed.get(currency, Decimal(0)) + amount

    def settle_refund(
        self, currency: str, amount: Decimal, credit_note_id: UUID, refunded_at: date
    ) -> None:
        self._refund_settled(
            currency=currency, amount=amount, credit_note_id=credit_note_id, refunded_at=refunded_at
        )

    @event("RefundSettled")
    def _refund_settled(
        self, currency: str, amount: Decimal, credit_note_id: UUID, refunded_at: date
    ) -> None:
        self.refunds_owed[currency] = self.refunds_owed.get(currency, Decimal(0)) - amount
