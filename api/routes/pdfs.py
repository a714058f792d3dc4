"""Invoice and credit-note PDFs, and the record of each finalized document's first PDF.

The first PDF of a finalized document is the one its customer received: its SHA-256 is
recorded on the document (a `Rendered` event) together with the version and locale it
shows. Rendering is deterministic, so an auditor can ask for that version again and
compare the digest in `X-Document-SHA256` with the recorded one.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.responses import Response

from api.auth import Caller, Permission, Reader, require
from api.commands import Command
from api.routes.common import Locale
from api.routes.credit_notes import CreditNoteOut
from api.routes.invoices import InvoiceOut
from ledger.context import CommandContext
from ledger.domain.credit_note import CreditNote
from ledger.domain.invoice import Invoice, Status
from ledger.domain.tenant import Tenant
from pdf import (
    LOCALES,
    from_credit_note_json,
    from_invoice_json,
    render_credit_note,
    render_invoice,
    sha256_of,
)

router = APIRouter(tags=["pdf"])

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {}},
        "description": "The PDF. `X-Document-Version` and `X-Document-SHA256` describe these "
        "bytes; `X-Recorded-SHA256` and `X-Recorded-Version` the first rendering on record.",
    }
}
Version = Annotated[
    int | None,
    Query(ge=1, le=1_000_000, description="Auditors: render the document as at this version"),
]
LocaleChoice = Annotated[
    Locale | None,
    Query(
        description="Labels and number formats; default: as first rendered, else the "
        "customer's locale, else the tenant's"
    ),
]


@router.get("/invoices/{invoice_id}/pdf", response_class=Response, responses=PDF_RESPONSE)
def invoice_pdf(
    invoice_id: UUID,
    caller: Reader,
    cmd: Command,
    version: Version = None,
    locale: LocaleChoice = None,
) -> Response:
    """The invoice as a PDF: drafts carry a DRAFT watermark and no number, void invoices
    a VOID one."""
    ctx = _context(caller, cmd, version)
    invoice = cmd.ledger.invoice(ctx, invoice_id, version)
    data = InvoiceOut.of(invoice)
    tenant = cmd.ledger.tenant(ctx)
    if invoice.status is Status.DRAFT:
        # A draft is not yet a document of record: it shows the parties as they are now.
        data["seller"] = tenant.seller_snapshot()
        data["buyer"] = cmd.ledger.customer(ctx, invoice.customer_id).buyer_snapshot()
    chosen = _locale(locale, invoice.rendering, data, tenant)
    content = render_invoice(from_invoice_json(data, _logo(data, tenant)), chosen)
    if invoice.status is not Status.DRAFT and version is None and invoice.rendering is None:
        invoice = _record(cmd, ctx, Invoice, invoice_id, content, invoice.version, chosen)
    name = invoice.number or f"draft-{invoice.id}"
    return _pdf(content, name, data["version"], invoice.rendering)


@router.get("/credit-notes/{credit_note_id}/pdf", response_class=Response, responses=PDF_RESPONSE)
def credit_note_pdf(
    credit_note_id: UUID,
    caller: Reader,
    cmd: Command,
    version: Version = None,
    locale: LocaleChoice = None,
) -> Response:
    """The credit note as a PDF, naming the invoice it corrects."""
    ctx = _context(caller, cmd, version)
    note = cmd.ledger.credit_note_at(ctx, credit_note_id, version)
    data = CreditNoteOut.of(note)
    tenant = cmd.ledger.tenant(ctx)
    chosen = _locale(locale, note.rendering, data, tenant)
    content = render_credit_note(from_credit_note_json(data, _logo(data, tenant)), chosen)
    if version is None and note.rendering is None:
        note = _record(cmd, ctx, CreditNote, credit_note_id, content, note.version, chosen)
    return _pdf(content, note.number, data["version"], note.rendering)


def _context(caller: Caller, cmd: Command, version: int | None) -> CommandContext:
    if version is not None:
        require(caller, Permission.AUDIT)
    return cmd.context(caller)


def _locale(
    asked: str | None,
    rendering: dict[str, Any] | None,
    data: dict[str, Any],
    tenant: Tenant,
) -> str:
    """The locale asked for; else the one the document was first rendered in, so that a
    re-rendering compares with the record; else the buyer's, else the seller's."""
    candidates = (
        asked,
        rendering and rendering["locale"],
        (data.get("buyer") or {}).get("locale"),
        (data.get("seller") or {}).get("locale"),
        tenant.profile.get("locale"),
    )
    return next((c for c in candidates if c in LOCALES), "en")


def _logo(data: dict[str, Any], tenant: Tenant) -> bytes | None:
    """The logo the document was issued with (a draft: the tenant's current one)."""
    digest = (data.get("seller") or {}).get("logo_sha256")
    png = tenant.logos.get(digest) if digest else None
    return base64.b64decode(png) if png else None


def _record(
    cmd: Command,
    ctx: CommandContext,
    kind: type[Invoice] | type[CreditNote],
    document_id: UUID,
    content: bytes,
    version: int,
    locale: str,
) -> Any:
    return cmd.ledger.record_rendering(ctx, kind, document_id, sha256_of(content), version, locale)


def _pdf(content: bytes, name: str, version: int, rendering: dict[str, Any] | None) -> Response:
    headers = {
        "Content-Disposition": f'inline; filename="{name}.pdf"',
        "X-Document-Version": str(version),
        "X-Document-SHA256": sha256_of(content),
    }
    if rendering is not None:
        headers["X-Recorded-SHA256"] = rendering["sha256"]
        headers["X-Recorded-Version"] = str(rendering["version"])
    return Response(content, 200, headers, media_type="application/pdf")
