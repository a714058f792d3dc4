"""Numbers, money, dates and rates as each locale writes them; text wrapping; JSON reading."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from pdf import UnsupportedLocale, from_credit_note_json, from_invoice_json, i18n
from pdf.document import Kind
from pdf.flowables import wrap
from pdf.fonts import fonts
from pdf.locales import load
from tests.pdf import samples

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "1,234,567.89"),
        ("de", "1.234.567,89"),
        ("fr", f"1{NNBSP}234{NNBSP}567,89"),
        ("nl", "1.234.567,89"),
        ("es", "1.234.567,89"),
        ("it", "1.234.567,89"),
    ],
)
def test_numbers_group_thousands_the_local_way(locale: str, expected: str) -> None:
    assert i18n.number(Decimal("1234567.891"), load(locale), 2) == expected


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "expected"),
    [
        ("en", "EUR", "1234.5", "€1,234.50"),
        ("de", "EUR", "1234.5", "1.234,50\u00a0€"),
        ("nl", "EUR", "-12", "€\u00a0-12,00"),
        ("en", "CHF", "12.5", "CHF\u00a012.50"),
        ("de", "CHF", "12.5", "12,50\u00a0CHF"),
        ("en", "JPY", "1500", "¥1,500"),
        ("en", "KWD", "1.5", "KWD\u00a01.500"),
        ("en", "INR", "161780.5", "₹161,780.50"),
    ],
)
def test_money_shows_the_symbol_or_code_and_the_currency_decimals(
    locale: str, currency: str, amount: str, expected: str
) -> None:
    assert i18n.money(Decimal(amount), currency, load(locale)) == expected


def test_unit_prices_keep_decimals_beyond_the_currency_and_quantities_drop_zeros() -> None:
    de = load("de")
    assert i18n.price(Decimal("0.0125"), "EUR", de) == "0,0125"
    assert i18n.price(Decimal("5"), "EUR", de) == "5,00"
    assert i18n.quantity(Decimal("3.500"), de) == "3,5"
    assert i18n.quantity(Decimal("1E+3"), load("en")) == "1,000"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "23 Nov 2026"),
        ("de", "23.11.2026"),
        ("fr", "23/11/2026"),
        ("nl", "23-11-2026"),
        ("es", "23/11/2026"),
        ("it", "23/11/2026"),
    ],
)
def test_dates_follow_national_conventions(locale: str, expected: str) -> None:
    assert i18n.day(date(2026, 11, 23), load(locale)) == expected


def test_rates_and_country_names_are_localized() -> None:
    assert i18n.percent(Decimal("5.5"), load("fr")) == "5,5\u00a0%"
    assert i18n.percent(Decimal("19"), load("en")) == "19%"
    assert i18n.country_name("DE", "fr") == "Allemagne"
    assert i18n.country_name("CZ", "de") == "Tschechien"
    assert i18n.country_name("GB", "en") == "United Kingdom"


def test_an_unsupported_locale_is_refused() -> None:
    with pytest.raises(UnsupportedLocale):
        load("pt")


def test_wrapping_keeps_words_no_break_spaces_and_line_breaks() -> None:
    regular = fonts().regular
    text = "Bitte zahlen Sie 1.234,56\u00a0€ bis morgen.\nDanke!"
    lines = wrap(text, regular, 9, 80)
    assert all(_width(line) <= 80 for line in lines)
    assert " ".join(lines) == text.replace("\n", " ")
    assert "1.234,56\u00a0€" in "".join(lines)
    assert lines[-1] == "Danke!"


def test_wrapping_cuts_a_word_longer_than_the_line() -> None:
    lines = wrap("x" * 200, fonts().regular, 9, 50)
    assert len(lines) > 1
    assert "".join(lines) == "x" * 200
    assert all(_width(line) <= 50 for line in lines)


def _width(line: str) -> float:
    return stringWidth(line, fonts().regular, 9)


def test_invoice_json_becomes_a_typed_document() -> None:
    document = from_invoice_json(samples.gst_india())
    assert document.kind is Kind.INVOICE
    assert document.number == "GST/2026-27/0042"
    assert document.issue_date == date(2026, 11, 23)
    assert document.total == Decimal("161780.50")
    assert document.seller is not None
    assert document.seller.bank is not None
    assert document.seller.bank.bic == "HDFC0000123"
    assert [c.name for c in document.tax_breakdown[0].components] == ["CGST", "SGST"]
    assert document.lines[0].quantity == Decimal(40)


def test_credit_note_json_names_the_corrected_invoice() -> None:
    document = from_credit_note_json(samples.credit_note())
    assert document.kind is Kind.CREDIT_NOTE
    assert document.corrects is not None
    assert (document.corrects.number, document.corrects.issue_date) == (
        "INV-2026-000042",
        date(2026, 3, 1),
    )
    assert document.memo == "Rückgabe unbenutzter Teile"


def test_a_draft_document_has_no_number_to_show() -> None:
    data = samples.domestic_de(status="draft")
    data["number"] = "INV-1"
    assert from_invoice_json(data).shown_number is None
