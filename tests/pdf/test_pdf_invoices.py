"""Invoices read back: every mandatory field, the number, each total and the legal wording."""

from __future__ import annotations

import pytest

from pdf import from_invoice_json, render_credit_note, render_invoice
from tests.pdf import reading, samples


@pytest.fixture(scope="module")
def domestic_de() -> str:
    document = from_invoice_json(samples.domestic_de(), logo_png=samples.logo_png())
    return reading.text(render_invoice(document, "de"))


@pytest.mark.parametrize(
    "expected",
    [
        # title and number
        "RECHNUNG",
        "INV-2026-000042",
        # seller: legal name, address, VAT id, registration number
        "Müller & Söhne Maschinenbau GmbH",
        "Hauptstraße 5\nGebäude C, 3. OG\n80331 München\nDeutschland",
        "USt-IdNr. DE123456789",
        "Handelsregister HRB 123456, Amtsgericht München",
        # buyer: name, address, VAT id
        "Bäckerei Schröder GmbH\nDomstraße 12\n50667 Köln\nDeutschland",
        "USt-IdNr. DE987654321",
        # dates and currency
        "Rechnungsdatum 23.11.2026",
        "Leistungsdatum 20.11.2026",
        "Fällig am 07.12.2026",
        "Währung EUR (€)",
        # lines: position, description, quantity, unit price, category and rate, net
        "Pos. Beschreibung Menge Einzelpreis USt. Netto",
        "1 Wartungsvertrag Backstraße, November 2026 1 1.250,00 S 19 % 1.250,00",
        "3,5 84,50 S 19 % 295,75",
        "3 Ersatzteil Dichtungssatz DS-12 12 4,95 S 19 % 59,40",
        "4 Fachbuch „Brotbacken für Profis“ 2 39,90 S 7 % 79,80",
        # tax breakdown per category and rate
        "Aufschlüsselung USt.",
        "Steuerpflichtig (S) 19 % 1.605,15 304,98",
        "Steuerpflichtig (S) 7 % 79,80 5,59",
        # totals, paid and due
        "Zwischensumme (netto) 1.684,95 €",
        "USt. gesamt 310,57 €",
        "Gesamtbetrag 1.995,52 €",
        "Bereits bezahlt -500,00 €",
        "Offener Betrag 1.495,52 €",
        # payment details
        "Bitte überweisen Sie 1.495,52 € bis zum 07.12.2026 unter Angabe von INV-2026-000042.",
        "Bank Commerzbank",
        "IBAN DE89 3704 0044 0532 0130 00",
        "BIC COBADEFFXXX",
        "Ihre Bestellung 4711 vom 02.11.2026",
        "Seite 1 von 1",
    ],
)
def test_domestic_german_invoice_shows(domestic_de: str, expected: str) -> None:
    assert expected in domestic_de


def test_a_long_description_wraps_inside_its_cell(domestic_de: str) -> None:
    assert samples.LONG_DESCRIPTION not in domestic_de  # not on one line...
    assert samples.LONG_DESCRIPTION in reading.flat(domestic_de)  # ...but all there, in order
    assert "2 Wartung und Instandsetzung der Teigknetmaschine Typ\n" in domestic_de


def test_reverse_charge_invoice_shows_the_wording_and_both_vat_ids() -> None:
    text = reading.text(render_invoice(samples.reverse_charge_fr(), "fr"))
    for expected in (
        "FACTURE",
        "FA-2026-0107",
        "N° TVA FR12345678901",
        "N° TVA PL5260250274",
        "Zakład Usług Łączności Sp. z o.o.\nul. Żółkiewskiego 17\n90-001 Łódź\nPologne",
        "1 Prestation de conseil \u2013 intégration logicielle 10 950,00 AE 0 % 9\u202f500,00",
        "Autoliquidation (AE) · PL 0 % 10\u202f734,56 0,00",
        "Total HT 10\u202f734,56 €",
        "Total TVA 0,00 €",
        "Total TTC 10\u202f734,56 €",
        "Net à payer 10\u202f734,56 €",
        "Mentions\n" + samples.REVERSE_CHARGE_FR,
        "Date d'émission 23/11/2026",
    ):
        assert expected in text


def test_export_invoice_shows_the_export_wording_and_us_address() -> None:
    text = reading.text(render_invoice(samples.export_us(), "en"))
    for expected in (
        "INVOICE",
        "INV-2026-000043",
        "Acme Corporation\n500 Congress Avenue\nSuite 1200\nAustin, TX 78701\nUnited States",
        "1 Dough kneading machine KM-500 2 18,400.00 G 0% 36,800.00",
        "Export (G) 0% 41,530.00 0.00",
        "Total $41,530.00",
        "Amount due $41,530.00",
        "Currency USD ($)",
        "Issue date 23 Nov 2026",
        samples.EXPORT_NOTE,
    ):
        assert expected in text


def test_gst_invoice_shows_the_cgst_and_sgst_split_in_rupees() -> None:
    text = reading.text(render_invoice(samples.gst_india(), "en"))
    for expected in (
        "GSTIN 29ABCDE1234F1Z5",
        "GSTIN 29AAAFK1234L1Z2",
        "Bengaluru 560001\nKarnataka\nIndia",
        "# Description Qty Unit price GST Net",
        "GST breakdown",
        "Taxable (S) 18% 111,475.00 20,065.50",
        "CGST 9% 10,032.75",
        "SGST 9% 10,032.75",
        "Taxable (S) 5% 28,800.00 1,440.00",
        "CGST 2.5% 720.00",
        "Subtotal (net) ₹140,275.00",
        "GST total ₹21,505.50",
        "Total ₹161,780.50",
        "Amount due ₹161,780.50",
        "Currency INR (₹)",
        samples.GST_NOTE,
    ):
        assert expected in text


def test_polish_and_czech_letters_come_back_as_written() -> None:
    text = reading.text(render_invoice(samples.central_europe(), "nl"))
    for expected in (
        "Dřevařské závody Třeboň s.r.o.\nŽižkova 1428\n379 01 Třeboň\nTsjechië",
        "Příliš žluťoučký kůň úpěl ďábelské ódy",
        "Zażółć gęślą jaźń — ĄĆĘŁŃÓŚŹŻ",
        "Intracommunautaire levering (K)",
        "Te betalen € 200,00",
    ):
        assert expected in text


def test_a_credit_note_names_the_invoice_it_corrects() -> None:
    text = reading.text(render_credit_note(samples.credit_note(), "en"))
    assert "CREDIT NOTE" in text
    assert "Credit note CN-2026-000001 for invoice INV-2026-000042 of 1 Mar 2026" in text
    assert "Corrects invoice INV-2026-000042" in text
    assert "Total credited €23.56" in text
    assert "Rückgabe unbenutzter Teile" in text
    assert "Amount due" not in text
    assert "Payment details" not in text


def test_a_german_credit_note_says_it_in_german() -> None:
    text = reading.text(render_credit_note(samples.credit_note(), "de"))
    assert "Gutschrift CN-2026-000001 zur Rechnung INV-2026-000042 vom 01.03.2026" in text
    assert "Gutschriftsbetrag 23,56 €" in text


def test_render_credit_note_refuses_an_invoice() -> None:
    with pytest.raises(ValueError, match="credit note"):
        render_credit_note(from_invoice_json(samples.domestic_de()), "en")


def test_a_draft_shows_draft_and_no_number() -> None:
    data = samples.domestic_de(status="draft")
    data["number"] = "INV-2026-000099"  # even if one were passed, a draft shows none
    text = reading.text(render_invoice(data, "en"))
    assert "DRAFT" in text
    assert "Draft, not yet numbered" in text
    assert "INV-2026-000099" not in text
    assert "Payment details" not in text
    assert "Amount due" not in text


def test_a_german_draft_is_marked_entwurf() -> None:
    text = reading.text(render_invoice(samples.domestic_de(status="draft"), "de"))
    assert "ENTWURF" in text


def test_a_void_invoice_shows_void_and_keeps_its_number() -> None:
    text = reading.text(render_invoice(samples.export_us(status="void"), "en"))
    assert "VOID" in text
    assert "INV-2026-000043" in text
    assert "Amount due" not in text
    assert "DRAFT" not in text


def test_an_open_invoice_has_no_watermark() -> None:
    text = reading.text(render_invoice(samples.export_us(), "en"))
    assert "VOID" not in text
    assert "DRAFT" not in text
