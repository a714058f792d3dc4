"""Invoice wording for the note codes, in six languages, and whose tax ids an invoice shows."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ledger.tax.errors import UnsupportedLanguage
from ledger.tax.model import NoteCode, Party, Rule


class Language(StrEnum):
    EN = "en"
    DE = "de"
    FR = "fr"
    NL = "nl"
    ES = "es"
    IT = "it"


_DIRECTIVE = {
    Language.EN: "Directive 2006/112/EC",
    Language.DE: "Richtlinie 2006/112/EG",
    Language.FR: "directive 2006/112/CE",
    Language.NL: "Richtlijn 2006/112/EG",
    Language.ES: "Directiva 2006/112/CE",
    Language.IT: "direttiva 2006/112/CE",
}
_EN, _DE, _FR, _NL, _ES, _IT = (_DIRECTIVE[lang] for lang in Language)

# The terms of art. 226(11a) ("Reverse charge") are those of the Directive's language versions.
_TEXTS: dict[NoteCode, tuple[str, str, str, str, str, str]] = {
    NoteCode.IC_SUPPLY: (
        f"Intra-community supply of goods, exempt under Article 138 of {_EN}",
        f"Steuerfreie innergemeinschaftliche Lieferung nach Artikel 138 der {_DE}",
        f"Livraison intracommunautaire de biens exonérée en vertu de l'article 138 de la {_FR}",
        f"Intracommunautaire levering van goederen, vrijgesteld op grond van artikel 138 van {_NL}",
        f"Entrega intracomunitaria de bienes exenta en virtud del artículo 138 de la {_ES}",
        f"Cessione intracomunitaria di beni non imponibile ai sensi dell'articolo 138 della {_IT}",
    ),
    NoteCode.REVERSE_CHARGE: (
        f"Reverse charge (Article 196 of {_EN})",
        f"Steuerschuldnerschaft des Leistungsempfängers (Artikel 196 der {_DE})",
        f"Autoliquidation (article 196 de la {_FR})",
        f"Btw verlegd (artikel 196 van {_NL})",
        f"Inversión del sujeto pasivo (artículo 196 de la {_ES})",
        f"Inversione contabile (articolo 196 della {_IT})",
    ),
    NoteCode.EXPORT_EU: (
        f"Export outside the EU, exempt under Article 146 of {_EN}",
        f"Ausfuhrlieferung in ein Drittland, steuerfrei nach Artikel 146 der {_DE}",
        f"Exportation hors de l'UE, exonérée en vertu de l'article 146 de la {_FR}",
        f"Uitvoer buiten de EU, vrijgesteld op grond van artikel 146 van {_NL}",
        f"Exportación fuera de la UE, exenta en virtud del artículo 146 de la {_ES}",
        f"Esportazione fuori dall'UE, non imponibile ai sensi dell'articolo 146 della {_IT}",
    ),
    NoteCode.EXPORT_ZERO_RATED: (
        "Export of goods: zero-rated, no VAT charged",
        "Ausfuhrlieferung: steuerfrei, keine Mehrwertsteuer berechnet",
        "Exportation de biens : exonérée, aucune TVA facturée",
        "Uitvoer van goederen: nultarief, geen btw in rekening gebracht",
        "Exportación de bienes: exenta, sin IVA repercutido",
        "Esportazione di beni: non imponibile, nessuna IVA addebitata",
    ),
    NoteCode.OUTSIDE_SCOPE_EU: (
        "Outside the scope of EU VAT: the place of supply is the customer's country"
        f" (Article 44 of {_EN})",
        "Nicht steuerbar: Leistungsort ist das Land des Leistungsempfängers"
        f" (Artikel 44 der {_DE})",
        "Hors du champ de la TVA de l'UE : le lieu de la prestation est le pays du preneur"
        f" (article 44 de la {_FR})",
        "Buiten de werkingssfeer van de EU-btw: de plaats van de dienst is het land van de"
        f" afnemer (artikel 44 van {_NL})",
        "No sujeto al IVA de la UE: el lugar de la prestación es el país del cliente"
        f" (artículo 44 de la {_ES})",
        "Operazione non soggetta all'IVA UE: il luogo della prestazione è il paese del"
        f" committente (articolo 44 della {_IT})",
    ),
    NoteCode.OUTSIDE_SCOPE: (
        "Outside the scope of VAT: the place of supply is the customer's country",
        "Nicht steuerbar: Leistungsort ist das Land des Leistungsempfängers",
        "Hors du champ de la TVA : le lieu de la prestation est le pays du preneur",
        "Buiten de werkingssfeer van de btw: de plaats van de dienst is het land van de afnemer",
        "No sujeto a IVA: el lugar de la prestación es el país del cliente",
        "Operazione fuori campo IVA: il luogo della prestazione è il paese del committente",
    ),
    NoteCode.CUSTOMER_ACCOUNTS_FOR_VAT: (
        "Reverse charge: the customer accounts for any VAT due in their country",
        "Steuerschuldnerschaft des Leistungsempfängers: der Kunde schuldet die in seinem Land"
        " anfallende Steuer",
        "Autoliquidation : le client acquitte la TVA due dans son pays",
        "Btw verlegd: de afnemer voldoet de in zijn land verschuldigde btw",
        "Inversión del sujeto pasivo: el cliente declara el IVA debido en su país",
        "Inversione contabile: il cliente assolve l'IVA dovuta nel proprio paese",
    ),
    NoteCode.OSS: (
        "VAT of the customer's Member State, declared under the One-Stop Shop (OSS) Union scheme",
        "Mehrwertsteuer des Mitgliedstaats des Kunden, erklärt im One-Stop-Shop (OSS),"
        " Unionsregelung",
        "TVA de l'État membre du client, déclarée via le guichet unique (OSS), régime de l'Union",
        "Btw van de lidstaat van de klant, aangegeven via het éénloketsysteem (OSS), Unieregeling",
        "IVA del Estado miembro del cliente, declarado en la ventanilla única (OSS),"
        " régimen de la Unión",
        "IVA dello Stato membro del cliente, dichiarata tramite lo sportello unico (OSS),"
        " regime dell'Unione",
    ),
    NoteCode.NON_UNION_OSS: (
        "VAT of the customer's Member State, declared under the One-Stop Shop (OSS)"
        " non-Union scheme",
        "Mehrwertsteuer des Mitgliedstaats des Kunden, erklärt im One-Stop-Shop (OSS),"
        " Nicht-EU-Regelung",
        "TVA de l'État membre du client, déclarée via le guichet unique (OSS), régime non-Union",
        "Btw van de lidstaat van de klant, aangegeven via het éénloketsysteem (OSS),"
        " niet-Unieregeling",
        "IVA del Estado miembro del cliente, declarado en la ventanilla única (OSS),"
        " régimen exterior de la Unión",
        "IVA dello Stato membro del cliente, dichiarata tramite lo sportello unico (OSS),"
        " regime non UE",
    ),
    NoteCode.EXEMPT: (
        "VAT exempt supply",
        "Steuerfreie Leistung",
        "Opération exonérée de TVA",
        "Vrijgesteld van btw",
        "Operación exenta de IVA",
        "Operazione esente da IVA",
    ),
    NoteCode.IN_EXPORT_UNDER_LUT: (
        "Supply meant for export under bond or letter of undertaking without payment of"
        " integrated tax",
        "Ausfuhrlieferung unter Bond oder Verpflichtungserklärung (LUT) ohne Zahlung der"
        " integrierten Steuer (IGST)",
        "Livraison destinée à l'exportation sous caution ou lettre d'engagement (LUT), sans"
        " paiement de la taxe intégrée (IGST)",
        "Levering bestemd voor uitvoer onder borgstelling of verbintenis (LUT) zonder betaling"
        " van geïntegreerde belasting (IGST)",
        "Suministro destinado a la exportación bajo fianza o carta de compromiso (LUT) sin pago"
        " del impuesto integrado (IGST)",
        "Fornitura destinata all'esportazione con garanzia o lettera d'impegno (LUT) senza"
        " pagamento dell'imposta integrata (IGST)",
    ),
    NoteCode.BUYER_VAT_ID_INVALID: (
        "The customer's VAT id is not valid: taxed as a supply to a private customer",
        "Die USt-IdNr. des Kunden ist ungültig: wie eine Leistung an einen Privatkunden besteuert",
        "Le numéro de TVA du client n'est pas valide : imposé comme une vente à un particulier",
        "Het btw-nummer van de klant is ongeldig: belast als levering aan een particulier",
        "El NIF-IVA del cliente no es válido: gravado como venta a un particular",
        "La partita IVA del cliente non è valida: tassato come cessione a un privato",
    ),
    NoteCode.BUYER_VAT_ID_MISSING: (
        "The customer gave no VAT id: taxed as a supply to a private customer",
        "Der Kunde hat keine USt-IdNr. angegeben: wie eine Leistung an einen Privatkunden"
        " besteuert",
        "Le client n'a pas donné de numéro de TVA : imposé comme une vente à un particulier",
        "De klant heeft geen btw-nummer opgegeven: belast als levering aan een particulier",
        "El cliente no ha indicado NIF-IVA: gravado como venta a un particular",
        "Il cliente non ha indicato la partita IVA: tassato come cessione a un privato",
    ),
}
_ORDER = tuple(Language)


def language(code: str) -> Language:
    """The language for an ISO 639-1 code; UnsupportedLanguage for any other."""
    try:
        return Language(code.lower())
    except ValueError:
        raise UnsupportedLanguage(f"no invoice wording in {code!r}", language=code) from None


def note_text(code: NoteCode, lang: Language | str) -> str:
    return _TEXTS[code][_ORDER.index(language(lang))]


def invoice_notes(codes: Iterable[NoteCode], lang: Language | str) -> tuple[str, ...]:
    """The wording to print for a decision's note codes, in order, without repeats."""
    return tuple(note_text(code, lang) for code in dict.fromkeys(codes))


_BOTH = (Party.SELLER, Party.BUYER)


def required_tax_ids(rule: Rule, *, buyer_registered: bool) -> tuple[Party, ...]:
    """Whose tax id the invoice must show under `rule`.

    The seller's always (art. 226(3)); the buyer's too for intra-community supplies and
    reverse charge (art. 226(4); EN 16931 BR-IC-02, BR-AE-02), and for Indian supplies to a
    registered recipient (CGST Rules, rule 46(e)).
    """
    if rule in (Rule.EU_B2B_GOODS_IC_SUPPLY, Rule.EU_B2B_SERVICES_REVERSE_CHARGE):
        return _BOTH
    if rule in (Rule.IN_INTRA_STATE, Rule.IN_INTER_STATE) and buyer_registered:
        return _BOTH
    return (Party.SELLER,)
