"""UK VAT rules for sellers in Great Britain, and for Northern Ireland's services."""

from __future__ import annotations

from ledger.tax.model import Category, NoteCode, Rule, SupplyKind, TaxDecision
from ledger.tax.situation import ZERO, Situation, charge, decided
from ledger.tax.territories import EU_MEMBER_STATES, UNITED_KINGDOM

_VATA = "VAT Act 1994"


def decide_uk(s: Situation) -> TaxDecision:
    origin = s.origin
    if s.line.kind is SupplyKind.GOODS:
        if s.destination in UNITED_KINGDOM:
            return charge(s, origin, Rule.UK_DOMESTIC, f"{_VATA} s. 4")
        return decided(
            s,
            Category.EXPORT,
            ZERO,
            origin,
            Rule.EXPORT,
            f"{_VATA} s. 30(6); VAT Notice 703: exports are zero-rated",
            (NoteCode.EXPORT_ZERO_RATED,),
        )
    country = s.buyer.country
    if country in UNITED_KINGDOM:
        return charge(s, origin, Rule.UK_DOMESTIC, f"{_VATA} s. 4")
    if s.buyer_is_business:
        notes: tuple[NoteCode, ...] = (NoteCode.OUTSIDE_SCOPE,)
        if country in EU_MEMBER_STATES:
            notes += (NoteCode.CUSTOMER_ACCOUNTS_FOR_VAT,)
        basis = f"{_VATA} s. 7A(2)(a): B2B services are supplied where the customer belongs"
        return decided(s, Category.OUTSIDE_SCOPE, ZERO, country, Rule.OUTSIDE_SCOPE, basis, notes)
    if s.line.kind is SupplyKind.DIGITAL:
        if country in EU_MEMBER_STATES:
            basis = "Art. 58 Directive 2006/112/EC; non-Union OSS (art. 358a-369), no threshold"
            return charge(s, country, Rule.EU_B2C_NON_UNION_OSS, basis, (NoteCode.NON_UNION_OSS,))
        basis = f"{_VATA} Sch. 4A para. 15: e-services are supplied where the consumer belongs"
        notes = (NoteCode.OUTSIDE_SCOPE,)
        return decided(s, Category.OUTSIDE_SCOPE, ZERO, country, Rule.OUTSIDE_SCOPE, basis, notes)
    return charge(s, origin, Rule.B2C_SERVICES_AT_SUPPLIER, f"{_VATA} s. 7A(2)(b)")
