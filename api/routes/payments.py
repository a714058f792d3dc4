"""Payments received over several invoices, and refunds of their unallocated part."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import Reader, Writer
from api.commands import Command, json_response
from api.routes.common import CurrencyCode, PastDate, Strict, json_object, one_line
from api.routes.invoices import Amount, PaymentMethod
from ledger.domain.payment import Payment

router = APIRouter(tags=["payments"])


class AllocationIn(Strict):
    invoice_id: UUID
    amount: Amount


class PaymentIn(Strict):
    customer_id: UUID
    amount: Amount
    currency: CurrencyCode
    paid_at: PastDate
    method: PaymentMethod = "bank_transfer"
    reference: Annotated[str, one_line(200)] | None = None
    allocations: Annotated[list[AllocationIn], Field(max_length=500)] = []


class PaymentRefundIn(Strict):
    amount: Amount
    refunded_at: PastDate
    method: PaymentMethod = "bank_transfer"
    reference: Annotated[str, one_line(200)] | None = None


class PaymentOut(BaseModel):
    id: UUID
    customer_id: UUID
    amount: str
    currency: str
    paid_at: date
    method: str
    reference: str | None
    allocations: list[dict[str, Any]]
    unallocated: str
    refunds: list[dict[str, Any]]
    version: int
    created_at: datetime

    @staticmethod
    def of(payment: Payment) -> dict[str, Any]:
        return json_object(
            {
                "id": payment.id,
                "customer_id": payment.customer_id,
                "amount": payment.amount,
                "currency": payment.currency,
                "paid_at": payment.paid_at,
                "method": payment.method,
                "reference": payment.reference,
                "allocations": payment.allocations,
                "unallocated": payment.unallocated,
                "refunds": payment.refunds,
                "version": payment.version,
                "created_at": payment.created_on,
            }
        )


@router.post("/payments", status_code=201, response_model=PaymentOut)
def receive_payment(body: PaymentIn, caller: Writer, cmd: Command) -> Any:
    """Record money received and allocate it to invoices; the rest is customer credit,
    which later invoices of the customer consume when they are finalized."""
    allocations = [(a.invoice_id, a.amount) for a in body.allocations]
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.receive_payment(
            ctx,
            body.customer_id,
            body.amount,
            body.currency,
            body.paid_at,
            body.method,
            body.reference,
            allocations,
        ),
        PaymentOut.of,
        201,
    )


@router.get("/payments/{payment_id}", response_model=PaymentOut)
def read_payment(payment_id: UUID, caller: Reader, cmd: Command) -> Any:
    return json_response(200, PaymentOut.of(cmd.ledger.payment(cmd.context(caller), payment_id)))


@router.post("/payments/{payment_id}/refunds", response_model=PaymentOut)
def refund_payment(payment_id: UUID, body: PaymentRefundIn, caller: Writer, cmd: Command) -> Any:
    """Pay back part of a payment that is not allocated to an invoice."""
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.refund_payment(
            ctx, payment_id, body.amount, body.refunded_at, body.method, body.reference
        ),
        PaymentOut.of,
    )
