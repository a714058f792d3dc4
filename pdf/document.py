"""What a PDF shows: an invoice or credit note as typed values, read from the API's JSON."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)


class Kind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    line2: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Bank:
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class Party:
    """Seller or buyer as frozen into the document (legal name, address, tax id...)."""

    name: str
    address: Address | None = None
    country: str | None = None
    vat_id: str | None = None
    registration_number: str | None = None
    bank: Bank | None = None


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    net_amount: Decimal
    tax_category: str
    tax_rate: Decimal
    tax_country: str | None = None


@dataclass(frozen=True)
class TaxComponent:
    """A part of one tax group's tax, e.g. India's CGST and SGST halves of GST."""

    name: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class TaxGroup:
    category: str
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    country: str | None = None
    components: tuple[TaxComponent, ...] = ()


@dataclass(frozen=True)
class InvoiceRef:
    """The invoice a credit note corrects."""

    number: str
    issue_date: date


@dataclass(frozen=True)
class Document:
    """An invoice or a credit note, everything its PDF shows and nothing more."""

    kind: Kind
    status: str
    number: str | None
    currency: str
    seller: Party | None
    buyer: Party | None
    lines: tuple[Line, ...]
    tax_breakdown: tuple[TaxGroup, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    issue_date: date | None = None
    supply_date: date | None = None
    due_date: date | None = None
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    amount_due: Decimal = ZERO
    notes: tuple[str, ...] = ()
    memo: str | None = None
    corrects: InvoiceRef | None = None
    logo_png: bytes | None = None

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def shown_number(self) -> str | None:
        """The number, never on a draft: a draft is not a numbered legal document."""
        return None if self.is_draft else self.number


def from_invoice_json(data: Mapping[str, Any], logo_png: bytes | None = None) -> Document:
    """An invoice from `InvoiceOut` JSON. Drafts carry no frozen parties: pass the current
    ones in "seller"/"buyer". Optional extras: seller "registration_number" and "bank"
    {iban, bic, bank_name}, "components" on a tax group, "logo_png" (bytes or base64)."""
    return Document(kind=Kind.INVOICE, **_common(data, logo_png))


def from_credit_note_json(data: Mapping[str, Any], logo_png: bytes | None = None) -> Document:
    """A credit note: like an invoice, plus the invoice it corrects, as "invoice"
    {number, issue_date} or "invoice_number" and "invoice_issue_date", and an optional
    "reason" (shown like a memo)."""
    invoice = data.get("invoice") or {
        "number": data.get("invoice_number"),
        "issue_date": data.get("invoice_issue_date"),
    }
    fields = _common(data, logo_png)
    fields["memo"] = fields["memo"] or data.get("reason")
    corrects = InvoiceRef(str(invoice["number"]), _date(invoice["issue_date"]))
    return Document(kind=Kind.CREDIT_NOTE, corrects=corrects, **fields)


def _common(data: Mapping[str, Any], logo_png: bytes | None) -> dict[str, Any]:
    return {
        "status": str(data.get("status") or "open"),
        "number": data.get("number"),
        "currency": str(data["currency"]),
        "seller": _party(data.get("seller"), "legal_name"),
        "buyer": _party(data.get("buyer"), "name"),
        "lines": tuple(_line(line) for line in data.get("lines") or ()),
        "tax_breakdown": tuple(_group(g) for g in data.get("tax_breakdown") or ()),
        "subtotal": _decimal(data["subtotal"]),
        "tax_total": _decimal(data["tax_total"]),
        "total": _decimal(data["total"]),
        "issue_date": _optional_date(data.get("issue_date")),
        "supply_date": _optional_date(data.get("supply_date")),
        "due_date": _optional_date(data.get("due_date")),
        "amount_paid": _decimal(data.get("amount_paid") or 0),
        "amount_credited": _decimal(data.get("amount_credited") or 0),
        "amount_due": _decimal(data.get("amount_due") or 0),
        "notes": tuple(str(note) for note in data.get("notes") or ()),
        "memo": data.get("memo"),
        "logo_png": logo_png or _logo(data.get("logo_png")),
    }


def _party(data: Mapping[str, Any] | None, name_key: str) -> Party | None:
    if not data:
        return None
    bank = data.get("bank")
    return Party(
        name=str(data.get(name_key) or data.get("name") or data.get("legal_name") or ""),
        address=_address(data.get("address")),
        country=data.get("country"),
        vat_id=data.get("vat_id"),
        registration_number=data.get("registration_number"),
        bank=Bank(bank.get("iban"), bank.get("bic"), bank.get("bank_name")) if bank else None,
    )


def _address(data: Mapping[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(
        line1=str(data.get("line1") or ""),
        city=str(data.get("city") or ""),
        line2=data.get("line2"),
        postal_code=data.get("postal_code"),
        region=data.get("region"),
        country=data.get("country"),
    )


def _line(data: Mapping[str, Any]) -> Line:
    return Line(
        description=str(data["description"]),
        quantity=_decimal(data["quantity"]),
        unit_price=_decimal(data["unit_price"]),
        net_amount=_decimal(data["net_amount"]),
        tax_category=str(data["tax_category"]),
        tax_rate=_decimal(data["tax_rate"]),
        tax_country=data.get("tax_country"),
    )


def _group(data: Mapping[str, Any]) -> TaxGroup:
    components: Sequence[Mapping[str, Any]] = (
        data.get("components") or data.get("gst_components") or ()
    )
    return TaxGroup(
        category=str(data["tax_category"]),
        rate=_decimal(data["tax_rate"]),
        taxable_amount=_decimal(data["taxable_amount"]),
        tax_amount=_decimal(data["tax_amount"]),
        country=data.get("tax_country"),
        components=tuple(
            TaxComponent(str(c.get("name") or c["tax"]), _decimal(c["rate"]), _decimal(c["amount"]))
            for c in components
        ),
    )


def _decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _optional_date(value: object) -> date | None:
    return None if value is None else _date(value)


def _logo(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return base64.b64decode(str(value))
