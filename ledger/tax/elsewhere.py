"""Rules for sellers outside the EU, the UK and India whose rates the engine carries (CH, NO)."""

from __future__ import annotations

from ledger.tax.model import Category, NoteCode, Rule, SupplyKind, TaxDecision
from ledger.tax.situation import ZERO, Situation, charge, decided
from ledger.tax.territories import EU_MEMBER_STATES


def decide_elsewhere(s: Situation) -> TaxDecision:
    """Domestic supplies at home; goods sent abroad are exports; services abroad are
    supplied where the customer is (CH MWSTG art. 8(1); NO mval. ch. 6), except that
    digital services to EU consumers carry the consumer's VAT under the non-Union OSS."""
    origin = s.origin
    if s.line.kind is SupplyKind.GOODS:
        if s.destination == origin:
            return charge(s, origin, Rule.DOMESTIC, f"{origin} VAT law: goods at home")
        return decided(
            s,
            Category.EXPORT,
            ZERO,
            origin,
            Rule.EXPORT,
            f"{origin} VAT law: exports of goods are exempt with credit",
            (NoteCode.EXPORT_ZERO_RATED,),
        )
    country = s.buyer.country
    if country == origin:
        return charge(s, origin, Rule.DOMESTIC, f"{origin} VAT law: services at home")
    consumer = not s.buyer_is_business
    if consumer and s.line.kind is SupplyKind.DIGITAL and country in EU_MEMBER_STATES:
        basis = "Art. 58 Directive 2006/112/EC; non-Union OSS (art. 358a-369), no threshold"
        return charge(s, country, Rule.EU_B2C_NON_UNION_OSS, basis, (NoteCode.NON_UNION_OSS,))
    basis = f"{origin} VAT law: services are supplied where the customer is"
    notes = (NoteCode.OUTSIDE_SCOPE,)
    return decided(s, Category.OUTSIDE_SCOPE, ZERO, country, Rule.OUTSIDE_SCOPE, basis, notes)
