"""The text is set in an embedded TrueType font that has a glyph for every character used."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from pdf import render_invoice
from pdf.fonts import fonts
from tests.pdf import samples

HARD_TEXT = "₹ ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ čďěňřšťůž ČĎĚŇŘŠŤŮŽ éèêàçñüöäß€£ „“ \u2013 — · \u202f"


def _fonts_of(pdf: bytes) -> list[Any]:
    reader = PdfReader(BytesIO(pdf))
    found: list[Any] = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        found += [ref.get_object() for ref in resources["/Font"].values()]
    return found


@pytest.mark.parametrize("name", ["regular", "bold"])
def test_the_font_has_a_glyph_for_every_hard_character(name: str) -> None:
    font = pdfmetrics.getFont(getattr(fonts(), name))
    assert isinstance(font, TTFont)
    missing = [c for c in HARD_TEXT if c != " " and ord(c) not in font.face.charToGlyph]
    assert missing == []


@pytest.mark.parametrize("name", ["regular", "bold"])
def test_the_sample_documents_use_no_character_the_font_lacks(name: str) -> None:
    font = pdfmetrics.getFont(getattr(fonts(), name))
    assert isinstance(font, TTFont)
    texts = [
        str(value)
        for data in (samples.gst_india(), samples.central_europe(), samples.reverse_charge_fr())
        for value in _strings(data)
    ]
    missing = {c for text in texts for c in text if ord(c) not in font.face.charToGlyph}
    assert missing == set()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_only_embedded_truetype_subsets_of_source_sans_pro_are_used() -> None:
    pdf = render_invoice(samples.central_europe(), "en")
    used = _fonts_of(pdf)
    assert used
    for font in used:
        assert font["/Subtype"] == "/TrueType"
        assert "SourceSansPro" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"]
        assert "/ToUnicode" in font


def test_the_rupee_sign_is_drawn_with_the_embedded_font() -> None:
    pdf = render_invoice(samples.gst_india(), "en")
    assert "₹161,780.50" in PdfReader(BytesIO(pdf)).pages[0].extract_text()
    assert all("Helvetica" not in str(font["/BaseFont"]) for font in _fonts_of(pdf))
