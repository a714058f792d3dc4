"""Invoice and credit-note PDFs: a finalized document's data in, deterministic PDF bytes out.

from pdf import render_invoice, sha256_of
pdf_bytes = render_invoice(invoice_json, locale="de")
recorded = sha256_of(pdf_bytes)
"""

from pdf.document import Document, Kind, from_credit_note_json, from_invoice_json
from pdf.flowables import check_logo
from pdf.locales import SUPPORTED as LOCALES
from pdf.locales import UnsupportedLocale
from pdf.render import render_credit_note, render_invoice, sha256_of

__all__ = [
    "LOCALES",
    "Document",
    "Kind",
    "UnsupportedLocale",
    "check_logo",
    "from_credit_note_json",
    "from_invoice_json",
    "render_credit_note",
    "render_invoice",
    "sha256_of",
]
