"""Edges: metadata, the logo, long footers, bare drafts, many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import Any

from pypdf import PdfReader

from pdf import from_invoice_json, render_invoice, sha256_of
from tests.pdf import reading, samples


def test_metadata_names_the_document_and_its_language() -> None:
    reader = PdfReader(BytesIO(render_invoice(samples.domestic_de(), "de")))
    assert reader.metadata is not None
    assert reader.metadata.title == "Rechnung INV-2026-000042"
    assert reader.metadata.author == "Müller & Söhne Maschinenbau GmbH"
    root: Any = reader.trailer["/Root"]
    assert root["/Lang"] == "de"


def test_the_tenants_logo_is_embedded_when_set() -> None:
    with_logo = render_invoice(from_invoice_json(samples.domestic_de(), samples.logo_png()), "en")
    without = render_invoice(samples.domestic_de(), "en")
    images = PdfReader(BytesIO(with_logo)).pages[0].images
    assert len(images) == 1
    assert len(PdfReader(BytesIO(without)).pages[0].images) == 0


def test_a_footer_too_long_for_the_page_is_cut_before_the_page_number() -> None:
    data = samples.domestic_de()
    data["seller"]["registration_number"] = "Amtsgericht " + "Charlottenburg " * 12
    page = reading.pages(render_invoice(data, "en"))[0]
    footer = next(
        line for line in page.splitlines() if line.startswith("Müller & Söhne") and " · " in line
    )
    assert footer.endswith("…")
    assert "Page 1 of 1" in page


def test_a_bare_draft_without_parties_or_lines_still_renders() -> None:
    data = samples.domestic_de(status="draft")
    data.update(seller=None, buyer=None, lines=[], tax_breakdown=[], memo=None)
    data.update(subtotal="0.00", tax_total="0.00", total="0.00")
    text = reading.text(render_invoice(data, "en"))
    assert "DRAFT" in text
    assert "Total €0.00" in text


def test_threads_rendering_at_once_get_the_bytes_one_thread_gets() -> None:
    alone = sha256_of(render_invoice(samples.gst_india(), "en"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = set(
            pool.map(lambda _: sha256_of(render_invoice(samples.gst_india(), "en")), range(12))
        )
    assert hashes == {alone}
