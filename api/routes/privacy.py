"""A customer's personal data: erasure (crypto-shredding) and export (GDPR art. 15/17/20)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.auth import Administrator
from api.commands import Command, json_response
from api.routes.common import json_object, wait_for_projections
from api.routes.credit_notes import CreditNoteOut
from api.routes.customers import CustomerOut
from api.routes.invoices import HistoryItem, InvoiceOut, history_item
from api.routes.subscriptions import renderer
from ledger.domain.customer import Customer
from projections.customer_records import CustomerRecords

router = APIRouter(tags=["customers"])


class AccountOut(BaseModel):
    credit: dict[str, str] = Field(description="Credit balance per currency")
    refunds_owed: dict[str, str]


class CustomerExport(BaseModel):
    """Everything the ledger holds about one customer."""

    exported_at: datetime
    customer: CustomerOut
    history: list[HistoryItem] = Field(description="Every event of the customer, oldest first")
    account: AccountOut
    invoices: list[dict[str, Any]] = Field(description="As GET /v1/invoices/{id}, drafts too")
    credit_notes: list[dict[str, Any]] = Field(description="As GET /v1/credit-notes/{id}")
    subscriptions: list[dict[str, Any]] = Field(description="As GET /v1/subscriptions/{id}")


def _records(request: Request) -> CustomerRecords:
    wait_for_projections(request, "invoice_list", "credit_note_list")
    return CustomerRecords(request.app.state.projectors.view("invoice_list").datastore)


@router.post("/customers/{customer_id}/erase", response_model=CustomerOut)
def erase_customer(customer_id: UUID, request: Request, caller: Administrator, cmd: Command) -> Any:
    """Erase the customer's name, email and address from every event and read model by
    destroying the key they are sealed with; amounts, tax data and numbers stay. Refused
    (409 within_retention_period, with `retained_until`) while finalized documents addressed
    to the customer are within the tenant's retention period, unless the tenant set
    `erase_within_retention`; refused (409) while the customer has running subscriptions.
    Owners only; it cannot be undone."""
    assert caller.tenant_id is not None
    last = _records(request).last_document_date(caller.tenant_id, customer_id)
    return cmd.run(
        caller, lambda ctx: cmd.ledger.erase_customer(ctx, customer_id, last), CustomerOut.of
    )


@router.get("/customers/{customer_id}/export", response_model=CustomerExport)
def export_customer(
    customer_id: UUID, request: Request, caller: Administrator, cmd: Command
) -> Any:
    """Everything held about the customer, as JSON (a data subject's access request).
    Owners only."""
    assert caller.tenant_id is not None
    ctx = cmd.context(caller)
    customer = cmd.ledger.customer(ctx, customer_id)
    records = _records(request)
    account = cmd.ledger.customer_account(ctx, customer_id)
    body = {
        "exported_at": datetime.now(UTC),
        "customer": CustomerOut.of(customer),
        "history": [history_item(e) for e in cmd.ledger.history(ctx, Customer, customer_id)],
        "account": {
            "credit": {c: str(a) for c, a in account.credit.items()},
            "refunds_owed": {c: str(a) for c, a in account.refunds_owed.items()},
        },
        "invoices": [
            InvoiceOut.of(cmd.ledger.invoice(ctx, i, None, None))
            for i in records.invoice_ids(caller.tenant_id, customer_id)
        ],
        "credit_notes": [
            CreditNoteOut.of(cmd.ledger.credit_note(ctx, n))
            for n in records.credit_note_ids(caller.tenant_id, customer_id)
        ],
        "subscriptions": [renderer(cmd)(s) for s in cmd.ledger.subscriptions_of(ctx, customer_id)],
    }
    return json_response(200, json_object(body))
