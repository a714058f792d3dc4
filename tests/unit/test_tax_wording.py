"""Invoice wording for the note codes in six languages, and whose tax ids are shown."""

from __future__ import annotations

import pytest

from ledger.tax import (
    Language,
    NoteCode,
    Party,
    Rule,
    UnsupportedLanguage,
    invoice_notes,
    note_text,
    required_tax_ids,
)

LANGUAGES = ["en", "de", "fr", "nl", "es", "it"]


@pytest.mark.parametrize(
    ("lang", "reverse_charge"),
    [
        ("en", "Reverse charge"),
        ("de", "Steuerschuldnerschaft des Leistungsempfängers"),
        ("fr", "Autoliquidation"),
        ("nl", "Btw verlegd"),
        ("es", "Inversión del sujeto pasivo"),
        ("it", "Inversione contabile"),
    ],
)
def test_reverse_charge_uses_the_directives_term_in_each_language(
    lang: str, reverse_charge: str
) -> None:
    text = note_text(NoteCode.REVERSE_CHARGE, lang)
    assert text.startswith(reverse_charge)
    assert "196" in text


@pytest.mark.parametrize(
    ("lang", "ic_supply", "export"),
    [
        ("en", "Intra-community supply of goods", "Export outside the EU"),
        ("de", "innergemeinschaftliche Lieferung", "Ausfuhrlieferung"),
        ("fr", "Livraison intracommunautaire", "Exportation hors de l'UE"),
        ("nl", "Intracommunautaire levering", "Uitvoer buiten de EU"),
        ("es", "Entrega intracomunitaria", "Exportación fuera de la UE"),
        ("it", "Cessione intracomunitaria", "Esportazione fuori dall'UE"),
    ],
)
def test_exemptions_name_their_article_in_each_language(
    lang: str, ic_supply: str, export: str
) -> None:
    assert ic_supply in note_text(NoteCode.IC_SUPPLY, lang)
    assert "138" in note_text(NoteCode.IC_SUPPLY, lang)
    assert export in note_text(NoteCode.EXPORT_EU, lang)
    assert "146" in note_text(NoteCode.EXPORT_EU, lang)


def test_the_english_wording_is_exact() -> None:
    assert note_text(NoteCode.IC_SUPPLY, "en") == (
        "Intra-community supply of goods, exempt under Article 138 of Directive 2006/112/EC"
    )
    assert note_text(NoteCode.EXPORT_EU, "en") == (
        "Export outside the EU, exempt under Article 146 of Directive 2006/112/EC"
    )
    assert "One-Stop Shop" in note_text(NoteCode.OSS, "en")
    assert note_text(NoteCode.OUTSIDE_SCOPE, "en").startswith("Outside the scope of VAT")


@pytest.mark.parametrize("code", list(NoteCode))
def test_every_note_code_has_its_own_text_in_all_six_languages(code: NoteCode) -> None:
    texts = [note_text(code, lang) for lang in LANGUAGES]
    assert all(text.strip() for text in texts)
    assert len(set(texts)) == len(LANGUAGES)


def test_invoice_notes_keep_order_and_drop_repeats() -> None:
    codes = [NoteCode.REVERSE_CHARGE, NoteCode.IC_SUPPLY, NoteCode.REVERSE_CHARGE]
    assert invoice_notes(codes, Language.FR) == (
        note_text(NoteCode.REVERSE_CHARGE, "fr"),
        note_text(NoteCode.IC_SUPPLY, "fr"),
    )


def test_language_codes_are_case_insensitive() -> None:
    assert note_text(NoteCode.EXEMPT, "DE") == note_text(NoteCode.EXEMPT, Language.DE)


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(UnsupportedLanguage) as raised:
        note_text(NoteCode.EXEMPT, "pt")
    assert raised.value.code == "language_not_supported"


@pytest.mark.parametrize(
    ("rule", "registered", "shown"),
    [
        (Rule.EU_B2B_GOODS_IC_SUPPLY, True, (Party.SELLER, Party.BUYER)),
        (Rule.EU_B2B_SERVICES_REVERSE_CHARGE, True, (Party.SELLER, Party.BUYER)),
        (Rule.IN_INTRA_STATE, True, (Party.SELLER, Party.BUYER)),
        (Rule.IN_INTER_STATE, False, (Party.SELLER,)),
        (Rule.DOMESTIC, True, (Party.SELLER,)),
        (Rule.EU_B2C_OSS_DESTINATION, False, (Party.SELLER,)),
        (Rule.EXPORT, True, (Party.SELLER,)),
    ],
)
def test_whose_tax_ids_the_invoice_shows(
    rule: Rule, registered: bool, shown: tuple[Party, ...]
) -> None:
    assert required_tax_ids(rule, buyer_registered=registered) == shown
