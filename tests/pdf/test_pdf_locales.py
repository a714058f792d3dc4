"""Every supported locale: its labels, dates and number formats on a rendered invoice."""

from __future__ import annotations

import pytest

from pdf import LOCALES, render_invoice
from pdf.locales import load
from tests.pdf import reading, samples

# title, issue date, total, amount due, page label
EXPECTED = {
    "en": (
        "INVOICE",
        "Issue date 23 Nov 2026",
        "Total €1,995.52",
        "Amount due €1,495.52",
        "Page 1 of 1",
    ),
    "de": (
        "RECHNUNG",
        "Rechnungsdatum 23.11.2026",
        "Gesamtbetrag 1.995,52 €",
        "Offener Betrag 1.495,52 €",
        "Seite 1 von 1",
    ),
    "fr": (
        "FACTURE",
        "Date d'émission 23/11/2026",
        "Total TTC 1\u202f995,52 €",
        "Net à payer 1\u202f495,52 €",
        "Page 1 sur 1",
    ),
    "nl": (
        "FACTUUR",
        "Factuurdatum 23-11-2026",
        "Totaal € 1.995,52",
        "Te betalen € 1.495,52",
        "Pagina 1 van 1",
    ),
    "es": (
        "FACTURA",
        "Fecha de expedición 23/11/2026",
        "Total 1.995,52 €",
        "Importe pendiente 1.495,52 €",
        "Página 1 de 1",
    ),
    "it": (
        "FATTURA",
        "Data di emissione 23/11/2026",
        "Totale documento 1.995,52 €",
        "Netto a pagare 1.495,52 €",
        "Pagina 1 di 1",
    ),
}


def test_the_expectations_cover_every_supported_locale() -> None:
    assert set(EXPECTED) == set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_an_invoice_in_each_locale_has_its_words_dates_and_numbers(locale: str) -> None:
    text = reading.text(render_invoice(samples.domestic_de(), locale))
    for expected in EXPECTED[locale]:
        assert expected in text
    labels = load(locale).labels
    for key in ("supply_date", "due_date", "currency", "description", "unit_price", "payment"):
        assert labels[key] in text
    assert labels["bill_to"].upper() in text
    assert "INV-2026-000042" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_each_locale_translates_every_label_and_category(locale: str) -> None:
    english = load("en")
    translated = load(locale)
    assert set(translated.labels) == set(english.labels)
    assert set(translated.categories) == set(english.categories)
    assert all(value.strip() for value in translated.labels.values())


def test_a_regional_locale_uses_its_language() -> None:
    text = reading.text(render_invoice(samples.domestic_de(), "de-AT"))
    assert "RECHNUNG" in text
