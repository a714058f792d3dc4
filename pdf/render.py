"""A document's data in, PDF bytes out: the same data always gives the same bytes."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from io import BytesIO
from typing import Any

from reportlab.platypus import BaseDocTemplate

from pdf.context import Context
from pdf.document import Document, Kind, from_credit_note_json, from_invoice_json
from pdf.fonts import fonts
from pdf.layout import BODY_SIZE, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE_HEIGHT, PAGE_WIDTH
from pdf.page import canvas_maker, decor_of, page_templates
from pdf.story import story


def render_invoice(doc: Document | Mapping[str, Any], locale: str) -> bytes:
    """An invoice as PDF: a `Document`, or `InvoiceOut` JSON (see `from_invoice_json`)."""
    document = doc if isinstance(doc, Document) else from_invoice_json(doc)
    return render(document, locale)


def render_credit_note(doc: Document | Mapping[str, Any], locale: str) -> bytes:
    """A credit note as PDF: a `Document`, or `CreditNoteOut` JSON (see
    `from_credit_note_json`)."""
    document = doc if isinstance(doc, Document) else from_credit_note_json(doc)
    if document.kind is not Kind.CREDIT_NOTE:
        raise ValueError("render_credit_note needs a credit note")
    return render(document, locale)


def sha256_of(pdf: bytes) -> str:
    """The hex SHA-256 recorded for a document's first rendering, to check later ones by."""
    return hashlib.sha256(pdf).hexdigest()


def render(document: Document, locale: str) -> bytes:
    # One rendering at a time per process: reportlab's fonts keep per-document state, and
    # rendering holds the GIL throughout, so threads would gain nothing by overlapping.
    with _rendering:
        return _render(document, locale)


_rendering = threading.Lock()


def _render(document: Document, locale: str) -> bytes:
    ctx = Context.of(document, locale)
    decor = decor_of(ctx)
    buffer = BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        invariant=1,  # fixed creation date and file id: the bytes depend on the data alone
        title=ctx.heading,
        author=document.seller.name if document.seller else "",
        subject=ctx.title,
        creator="Ledger",
        lang=ctx.loc.code,
        initialFontName=fonts().regular,  # else Helvetica joins the resources, unused
        initialFontSize=BODY_SIZE,
    )
    template.addPageTemplates(page_templates(decor))
    template.build(story(ctx), canvasmaker=canvas_maker(decor))
    return buffer.getvalue()
