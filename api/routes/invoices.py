"""Invoices: drafts and their lines, finalization, payments, voiding, listing and history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, field_validator

from api.auth import Permission, Reader, Writer, require
from api.commands import Command, json_response
from api.pagination import Page, paged
from api.routes.common import (
    ONE_LINE,
    CurrencyCode,
    Strict,
    json_object,
    multi_line,
    one_line,
    wait_for_projections,
)
from ledger.domain.base import LedgerAggregate
from ledger.domain.invoice import Invoice, Status
from ledger.taxation import gst_split
from projections.invoice_list import InvoiceFilter, InvoiceListView

router = APIRouter(tags=["invoices"])


def _plain(value: Decimal) -> Decimal:
    """A number as people write it, since it is echoed back: "1E+2" is 100, "-0" is 0."""
    if value.is_zero():
        return abs(value)
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


Plain = AfterValidator(_plain)
Quantity = Annotated[
    Decimal, Field(gt=0, max_digits=15, decimal_places=6, allow_inf_nan=False), Plain
]
UnitPrice = Annotated[
    Decimal, Field(ge=0, max_digits=15, decimal_places=6, allow_inf_nan=False), Plain
]
TaxRate = Annotated[
    Decimal,
    Field(
        ge=0,
        le=100,
        max_digits=7,
        decimal_places=4,
        allow_inf_nan=False,
        description='Percentage, e.g. "19" or "5.5"',
    ),
    Plain,
]
Amount = Annotated[
    Decimal, Field(gt=0, max_digits=15, decimal_places=4, allow_inf_nan=False), Plain
]
LineKind = Literal["goods", "services", "digital"]
Description = Annotated[str, multi_line(1000, min_length=1)]
ProductCode = Annotated[str, one_line(64, min_length=1)]
TaxClassName = Literal[
    "standard", "reduced", "reduced_2", "super_reduced", "parking", "demerit", "zero", "exempt"
]
ExchangeRate = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=8, allow_inf_nan=False)]
PaymentMethod = Literal["card", "bank_transfer", "direct_debit", "cash", "cheque", "other"]


class LineIn(Strict):
    description: Description
    quantity: Quantity
    unit_price: UnitPrice
    kind: LineKind = "services"
    tax_rate: TaxRate | None = Field(
        default=None,
        description="Only when the tenant allows overrides; otherwise the tax engine decides",
    )
    tax_class: TaxClassName | None = Field(
        default=None, description="The product's rate class; default standard"
    )
    product_code: ProductCode | None = None


class LinePatch(Strict):
    description: Description | None = None
    quantity: Quantity | None = None
    unit_price: UnitPrice | None = None
    kind: LineKind | None = None
    tax_rate: TaxRate | None = None
    tax_class: TaxClassName | None = None
    product_code: ProductCode | None = None


class InvoiceIn(Strict):
    customer_id: UUID
    currency: CurrencyCode | None = Field(default=None, description="Default: the tenant's")
    lines: Annotated[list[LineIn], Field(max_length=1000)] = []
    supply_date: date | None = None
    due_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        default=None, description="Days from issue to due; default: the tenant's terms"
    )
    memo: Annotated[str, multi_line(2000)] | None = None

    @field_validator("supply_date")
    @classmethod
    def _sane_supply_date(cls, value: date | None) -> date | None:
        if value is not None and not date(2000, 1, 1) <= value <= date(2100, 12, 31):
            raise ValueError("supply_date must be between 2000 and 2100")
        return value


class FinalizeIn(Strict):
    issue_date: date | None = Field(default=None, description="Default: today (UTC)")
    exchange_rate: ExchangeRate | None = Field(
        default=None,
        description="1 unit of the invoice currency in the tenant's currency; required when "
        "they differ",
    )

    @field_validator("issue_date")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        # The ledger refuses future dates; a date before 2000 is a typo, not a late invoice.
        if value is not None and value < date(2000, 1, 1):
            raise ValueError("issue_date is implausibly old")
        return value


class PaymentIn(Strict):
    amount: Amount
    paid_at: date
    method: PaymentMethod = "bank_transfer"
    reference: Annotated[str, one_line(200)] | None = None

    @field_validator("paid_at")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > datetime.now(UTC).date() + timedelta(days=1):
            raise ValueError("paid_at cannot be in the future")
        if value < date(2000, 1, 1):
            raise ValueError("paid_at is implausibly old")
        return value


class VoidIn(Strict):
    reason: Annotated[str, multi_line(500, min_length=1)]


class LineOut(BaseModel):
    id: UUID
    description: str
    quantity: str
    unit_price: str
    kind: LineKind
    product_code: str | None
    net_amount: str
    tax_category: str
    tax_rate: str
    tax_country: str | None
    tax_class: str | None = None
    requested_tax_rate: str | None = Field(default=None, description="As the client gave it")
    tax_rule: str | None = Field(default=None, description="The rule that decided the tax")
    gst: list[dict[str, str]] = Field(default=[], description="CGST/SGST or IGST heads")


class TaxHeadOut(BaseModel):
    tax: str = Field(description="CGST, SGST, UTGST or IGST")
    rate: str
    amount: str


class TaxGroupOut(BaseModel):
    tax_category: str
    tax_rate: str
    tax_country: str | None
    taxable_amount: str
    tax_amount: str
    components: list[TaxHeadOut] = Field(default=[], description="India: the GST heads")


def tax_breakdown(
    groups: list[dict[str, Any]], lines: list[dict[str, Any]], currency: str
) -> list[dict[str, Any]]:
    """The groups with their GST heads, as the invoice shows them."""
    return [
        {**group, "components": gst_split(lines, group, group["tax_amount"], currency)}
        for group in groups
    ]


class PaymentOut(BaseModel):
    id: UUID
    amount: str
    paid_at: date
    method: str
    reference: str | None


class InvoiceOut(BaseModel):
    id: UUID
    number: str | None
    status: str
    customer_id: UUID
    currency: str
    issue_date: date | None
    due_date: date | None
    supply_date: date | None
    seller: dict[str, Any] | None
    buyer: dict[str, Any] | None
    lines: list[LineOut]
    tax_breakdown: list[TaxGroupOut]
    subtotal: str
    tax_total: str
    total: str
    amount_paid: str
    amount_credited: str
    amount_due: str
    payments: list[PaymentOut]
    notes: list[str]
    tax_advisories: list[str] = Field(
        description="E.g. buyer_vat_id_invalid: the buyer was taxed as a consumer"
    )
    exchange_rate: str | None
    accounting_currency: str | None
    memo: str | None
    version: int
    created_at: datetime
    finalized_at: datetime | None

    @staticmethod
    def of(invoice: Invoice) -> dict[str, Any]:
        totals = invoice.totals()
        lines = invoice.priced_lines()
        return json_object(
            {
                "id": invoice.id,
                "number": invoice.number,
                "status": invoice.status,
                "customer_id": invoice.customer_id,
                "currency": invoice.currency,
                "issue_date": invoice.issue_date,
                "due_date": invoice.due_date,
                "supply_date": invoice.supply_date,
                "seller": invoice.seller,
                "buyer": invoice.buyer,
                "lines": lines,
                "tax_breakdown": tax_breakdown(totals.tax_breakdown, lines, invoice.currency),
                "subtotal": totals.subtotal,
                "tax_total": totals.tax_total,
                "total": totals.total,
                "amount_paid": invoice.amount_paid,
                "amount_credited": invoice.amount_credited,
                "amount_due": invoice.amount_due,
                "payments": invoice.payments,
                "notes": invoice.notes,
                "tax_advisories": list(invoice.advisories),
                "exchange_rate": invoice.exchange_rate,
                "accounting_currency": invoice.accounting_currency,
                "memo": invoice.memo,
                "version": invoice.version,
                "created_at": invoice.created_at,
                "finalized_at": invoice.finalized_at,
            }
        )


class InvoiceSummary(BaseModel):
    id: UUID
    number: str | None
    status: str
    customer_id: UUID
    currency: str
    issue_date: date | None
    due_date: date | None
    subtotal: str
    tax_total: str
    total: str
    amount_paid: str
    amount_due: str
    created_at: datetime
    finalized_at: datetime | None
    version: int


class InvoicePage(BaseModel):
    data: list[InvoiceSummary]
    next_cursor: str | None


class HistoryItem(BaseModel):
    version: int
    type: str
    recorded_at: datetime
    actor: str
    correlation_id: str
    data: dict[str, Any]


class History(BaseModel):
    data: list[HistoryItem]


_SUMMARY_FIELDS = tuple(InvoiceSummary.model_fields)
_ENVELOPE = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "actor",
    "correlation_id",
}


def history_item(event: LedgerAggregate.Event) -> dict[str, Any]:
    data = {k: v for k, v in event.__dict__.items() if k not in _ENVELOPE}
    return json_object(
        {
            "version": event.originator_version,
            "type": type(event).__name__,
            "recorded_at": event.timestamp,
            "actor": event.actor,
            "correlation_id": event.correlation_id,
            "data": data,
        }
    )


@router.post("/invoices", status_code=201, response_model=InvoiceOut)
def draft_invoice(body: InvoiceIn, caller: Writer, cmd: Command) -> Any:
    lines = [line.model_dump() for line in body.lines]
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.draft_invoice(
            ctx,
            body.customer_id,
            lines,
            body.currency,
            body.supply_date,
            body.due_days,
            body.memo,
        ),
        InvoiceOut.of,
        201,
    )


@router.get("/invoices", response_model=InvoicePage)
def list_invoices(
    request: Request,
    caller: Reader,
    page: Page,
    status: Annotated[Status | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
    issued_from: Annotated[date | None, Query()] = None,
    issued_to: Annotated[date | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Open or uncollectible and past due")] = False,
    q: Annotated[
        str | None, Query(max_length=64, pattern=ONE_LINE, description="Part of the number")
    ] = None,
) -> Any:
    wait_for_projections(request, "invoice_list")
    view: InvoiceListView = request.app.state.projectors.view("invoice_list")
    where = InvoiceFilter(
        status=status.value if status else None,
        customer_id=customer_id,
        issued_from=issued_from,
        issued_to=issued_to,
        overdue_on=datetime.now(UTC).date() if overdue else None,
        number_contains=q,
    )
    rows = view.page(caller.tenant_id, where, page.limit + 1, page.before)
    return json_response(
        200, paged(rows, page, lambda row: json_object({k: row[k] for k in _SUMMARY_FIELDS}))
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def read_invoice(
    invoice_id: UUID,
    caller: Reader,
    cmd: Command,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="Auditors")] = None,
    as_of: Annotated[AwareDatetime | None, Query(description="Auditors")] = None,
) -> Any:
    """The invoice now, or (auditors) as of a version or an instant, rebuilt from events."""
    if version is not None or as_of is not None:
        require(caller, Permission.AUDIT)
    invoice = cmd.ledger.invoice(cmd.context(caller), invoice_id, version, as_of)
    return json_response(200, InvoiceOut.of(invoice))


@router.get("/invoices/{invoice_id}/history", response_model=History)
def invoice_history(invoice_id: UUID, caller: Reader, cmd: Command) -> Any:
    """Every event of the invoice, oldest first, with who caused it."""
    require(caller, Permission.AUDIT)
    events = cmd.ledger.history(cmd.context(caller), Invoice, invoice_id)
    return json_response(200, {"data": [history_item(e) for e in events]})


@router.post("/invoices/{invoice_id}/lines", status_code=201, response_model=InvoiceOut)
def add_line(invoice_id: UUID, body: LineIn, caller: Writer, cmd: Command) -> Any:
    line = body.model_dump()
    return cmd.run(
        caller, lambda ctx: cmd.ledger.add_invoice_line(ctx, invoice_id, line), InvoiceOut.of, 201
    )


@router.patch("/invoices/{invoice_id}/lines/{line_id}", response_model=InvoiceOut)
def change_line(
    invoice_id: UUID, line_id: UUID, body: LinePatch, caller: Writer, cmd: Command
) -> Any:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.change_invoice_line(ctx, invoice_id, line_id, changes),
        InvoiceOut.of,
    )


@router.delete("/invoices/{invoice_id}/lines/{line_id}", response_model=InvoiceOut)
def remove_line(invoice_id: UUID, line_id: UUID, caller: Writer, cmd: Command) -> Any:
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.remove_invoice_line(ctx, invoice_id, line_id),
        InvoiceOut.of,
    )


@router.delete("/invoices/{invoice_id}", response_model=InvoiceOut)
def discard_invoice(invoice_id: UUID, caller: Writer, cmd: Command) -> Any:
    """Discard a draft. Its events stay for the audit trail; it leaves every listing."""
    return cmd.run(caller, lambda ctx: cmd.ledger.discard_invoice(ctx, invoice_id), InvoiceOut.of)


@router.post("/invoices/{invoice_id}/finalize", response_model=InvoiceOut)
def finalize_invoice(
    invoice_id: UUID, caller: Writer, cmd: Command, body: FinalizeIn | None = None
) -> Any:
    """Number the invoice (gapless per tenant, series and year), freeze it, and open it."""
    issue_date = body.issue_date if body else None
    exchange_rate = body.exchange_rate if body else None
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.finalize_invoice(ctx, invoice_id, issue_date, exchange_rate),
        InvoiceOut.of,
    )


@router.post("/invoices/{invoice_id}/payments", response_model=InvoiceOut)
def record_payment(invoice_id: UUID, body: PaymentIn, caller: Writer, cmd: Command) -> Any:
    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.record_payment(
            ctx, invoice_id, body.amount, body.paid_at, body.method, body.reference
        ),
        InvoiceOut.of,
    )


@router.post("/invoices/{invoice_id}/void", response_model=InvoiceOut)
def void_invoice(invoice_id: UUID, body: VoidIn, caller: Writer, cmd: Command) -> Any:
    return cmd.run(
        caller, lambda ctx: cmd.ledger.void_invoice(ctx, invoice_id, body.reason), InvoiceOut.of
    )


@router.post("/invoices/{invoice_id}/mark-uncollectible", response_model=InvoiceOut)
def mark_uncollectible(invoice_id: UUID, caller: Writer, cmd: Command) -> Any:
    return cmd.run(
        caller, lambda ctx: cmd.ledger.mark_uncollectible(ctx, invoice_id), InvoiceOut.of
    )
