"""Credit notes: corrections of finalized invoices, and refunds they owe."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, model_validator

from api.auth import Permission, Reader, Writer, require
from api.commands import Command, json_response
from api.pagination import Page, paged
from api.routes.common import (
    PastDate,
    Strict,
    json_object,
    multi_line,
    one_line,
    wait_for_projections,
)
from api.routes.invoices import (
    Amount,
    PaymentMethod,
    Quantity,
    TaxGroupOut,
    history_item,
    tax_breakdown,
)
from ledger.domain.credit_note import CreditNote, CreditRequest
from projections.credit_note_list import CreditNoteListView

router = APIRouter(tags=["credit notes"])

CreditOutcome = Literal["reduce_due", "refund", "credit_balance"]


class CreditLineIn(Strict):
    invoice_line_id: UUID
    quantity: Quantity | None = None
    amount: Amount | None = Field(default=None, description="Net, before tax")

    @model_validator(mode="after")
    def _one_of(self) -> CreditLineIn:
        if (self.quantity is None) == (self.amount is None):
            raise ValueError("give either quantity or amount")
        return self


class CreditNoteIn(Strict):
    invoice_id: UUID
    reason: Annotated[str, multi_line(500, min_length=1)]
    outcome: CreditOutcome = "reduce_due"
    full: bool = False
    lines: Annotated[list[CreditLineIn], Field(max_length=1000)] = []
    issue_date: date | None = Field(default=None, description="Default: today (UTC)")

    @model_validator(mode="after")
    def _full_or_lines(self) -> CreditNoteIn:
        if self.full == bool(self.lines):
            raise ValueError("give either full: true or lines")
        return self


class RefundIn(Strict):
    refunded_at: PastDate
    method: PaymentMethod = "bank_transfer"
    reference: Annotated[str, one_line(200)] | None = None


class CreditLineOut(BaseModel):
    id: UUID
    invoice_line_id: UUID
    description: str
    quantity: str
    unit_price: str
    net_amount: str
    tax_category: str
    tax_rate: str
    tax_country: str | None


class CreditNoteOut(BaseModel):
    id: UUID
    number: str
    invoice_id: UUID
    invoice_number: str
    invoice_issue_date: date
    customer_id: UUID
    status: str
    reason: str
    outcome: CreditOutcome
    currency: str
    issue_date: date
    seller: dict[str, Any]
    buyer: dict[str, Any]
    lines: list[CreditLineOut]
    tax_breakdown: list[TaxGroupOut]
    subtotal: str
    tax_total: str
    total: str
    notes: list[str]
    refund: dict[str, Any] | None
    version: int
    issued_at: datetime

    @staticmethod
    def of(note: CreditNote) -> dict[str, Any]:
        return json_object(
            {
                "id": note.id,
                "number": note.number,
                "invoice_id": note.invoice_id,
                "invoice_number": note.invoice_number,
                "invoice_issue_date": note.invoice_issue_date,
                "customer_id": note.customer_id,
                "status": note.status,
                "reason": note.reason,
                "outcome": note.outcome,
                "currency": note.currency,
                "issue_date": note.issue_date,
                "seller": note.seller,
                "buyer": note.buyer,
                "lines": [{k: v for k, v in line.items() if k != "kind"} for line in note.lines],
                "tax_breakdown": tax_breakdown(note.tax_breakdown, note.lines, note.currency),
                "subtotal": note.subtotal,
                "tax_total": note.tax_total,
                "total": note.total,
                "notes": note.notes,
                "refund": note.refunded,
                "version": note.version,
                "issued_at": note.created_on,
            }
        )


class CreditNoteSummary(BaseModel):
    id: UUID
    number: str
    invoice_id: UUID
    invoice_number: str
    customer_id: UUID
    status: str
    outcome: str
    reason: str
    currency: str
    issue_date: date
    subtotal: str
    tax_total: str
    total: str
    version: int


class CreditNotePage(BaseModel):
    data: list[CreditNoteSummary]
    next_cursor: str | None


_SUMMARY_FIELDS = tuple(CreditNoteSummary.model_fields)


@router.post("/credit-notes", status_code=201, response_model=CreditNoteOut)
def issue_credit_note(body: CreditNoteIn, caller: Writer, cmd: Command) -> Any:
    """Credit a finalized invoice in full or by line (a quantity, or a net amount); tax
    follows the credited lines. The sum of credits never exceeds the invoice (409)."""
    requests = (
        None
        if body.full
        else [
            CreditRequest(line.invoice_line_id, line.quantity, line.amount) for line in body.lines
        ]
    )
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.issue_credit_note(
            ctx, body.invoice_id, body.reason, body.outcome, requests, body.issue_date
        ),
        CreditNoteOut.of,
        201,
    )


@router.get("/credit-notes", response_model=CreditNotePage)
def list_credit_notes(
    request: Request,
    caller: Reader,
    page: Page,
    invoice_id: Annotated[UUID | None, Query()] = None,
) -> Any:
    wait_for_projections(request, "credit_note_list")
    view: CreditNoteListView = request.app.state.projectors.view("credit_note_list")
    rows = view.page(caller.tenant_id, invoice_id, page.limit + 1, page.before)
    return json_response(
        200, paged(rows, page, lambda row: json_object({k: row[k] for k in _SUMMARY_FIELDS}))
    )


@router.get("/credit-notes/{credit_note_id}", response_model=CreditNoteOut)
def read_credit_note(credit_note_id: UUID, caller: Reader, cmd: Command) -> Any:
    note = cmd.ledger.credit_note(cmd.context(caller), credit_note_id)
    return json_response(200, CreditNoteOut.of(note))


@router.get("/credit-notes/{credit_note_id}/history")
def credit_note_history(credit_note_id: UUID, caller: Reader, cmd: Command) -> Any:
    require(caller, Permission.AUDIT)
    events = cmd.ledger.history(cmd.context(caller), CreditNote, credit_note_id)
    return json_response(200, {"data": [history_item(e) for e in events]})


@router.post("/credit-notes/{credit_note_id}/refund", response_model=CreditNoteOut)
def pay_refund(credit_note_id: UUID, body: RefundIn, caller: Writer, cmd: Command) -> Any:
    """Record that the refund a credit note (outcome `refund`) owes was paid out."""
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.pay_credit_note_refund(
            ctx, credit_note_id, body.refunded_at, body.method, body.reference
        ),
        CreditNoteOut.of,
    )
