"""EU VAT rules for sellers in a member state, and for Northern Ireland's goods."""

from __future__ import annotations

from decimal import Decimal

from ledger.tax.model import Category, NoteCode, Rule, SupplyKind, TaxDecision
from ledger.tax.situation import ZERO, Situation, charge, decided
from ledger.tax.territories import EU_GOODS_AREA, EU_MEMBER_STATES, UNITED_KINGDOM

# Art. 59c: below this EU-wide total of cross-border B2C sales in both the previous and the
# current year, distance sales of goods and TBE services stay taxed in the seller's state.
EU_B2C_THRESHOLD_EUR = Decimal(10000)

_DIRECTIVE = "Directive 2006/112/EC"


def decide_eu(s: Situation) -> TaxDecision:
    if s.line.kind is SupplyKind.GOODS:
        return _goods(s)
    return _services(s)


def _goods(s: Situation) -> TaxDecision:
    origin, destination = s.origin, s.destination
    if destination == origin:
        return _domestic(s)
    if origin in UNITED_KINGDOM and destination in UNITED_KINGDOM:
        return charge(s, origin, Rule.UK_DOMESTIC, "Windsor Framework: NI-GB goods follow UK VAT")
    if destination not in EU_GOODS_AREA:
        return decided(
            s,
            Category.EXPORT,
            ZERO,
            origin,
            Rule.EXPORT,
            f"Art. 146(1)(a) {_DIRECTIVE}",
            (NoteCode.EXPORT_EU,),
        )
    id_country = s.buyer_id_country
    if id_country in EU_GOODS_AREA:
        if id_country != origin:
            return decided(
                s,
                Category.INTRA_COMMUNITY,
                ZERO,
                origin,
                Rule.EU_B2B_GOODS_IC_SUPPLY,
                f"Art. 138(1) {_DIRECTIVE}",
                (NoteCode.IC_SUPPLY,),
            )
        # A buyer identified for VAT in the seller's own state gets no exemption (art. 138(1)).
        return _domestic(s)
    return _distance_sale(s, destination)


def _services(s: Situation) -> TaxDecision:
    origin, country = s.origin, s.buyer.country
    if country == origin:
        return _domestic(s)
    if s.buyer_is_business and country not in EU_MEMBER_STATES:
        notes: tuple[NoteCode, ...] = (NoteCode.OUTSIDE_SCOPE_EU,)
        if country in UNITED_KINGDOM:
            notes += (NoteCode.CUSTOMER_ACCOUNTS_FOR_VAT,)
        basis = f"Art. 44 {_DIRECTIVE}"
        return decided(s, Category.OUTSIDE_SCOPE, ZERO, country, Rule.OUTSIDE_SCOPE, basis, notes)
    id_country = s.buyer_id_country
    if id_country in EU_MEMBER_STATES:
        if id_country == origin:
            return _domestic(s)
        return decided(
            s,
            Category.REVERSE_CHARGE,
            ZERO,
            country,
            Rule.EU_B2B_SERVICES_REVERSE_CHARGE,
            f"Art. 44 and 196 {_DIRECTIVE}",
            (NoteCode.REVERSE_CHARGE,),
        )
    if s.line.kind is SupplyKind.DIGITAL:
        if country in EU_MEMBER_STATES:
            return _distance_sale(s, country)
        basis = f"Art. 58 {_DIRECTIVE}: taxed where the consumer is, outside the EU"
        notes = (NoteCode.OUTSIDE_SCOPE,)
        return decided(s, Category.OUTSIDE_SCOPE, ZERO, country, Rule.OUTSIDE_SCOPE, basis, notes)
    return charge(s, origin, Rule.B2C_SERVICES_AT_SUPPLIER, f"Art. 45 {_DIRECTIVE}")


def _distance_sale(s: Situation, destination: str) -> TaxDecision:
    """Goods sent, or TBE services supplied, to a consumer in another EU member state."""
    seller = s.seller
    within_threshold = (
        seller.eu_b2c_sales_previous_year <= EU_B2C_THRESHOLD_EUR
        and seller.eu_b2c_sales_current_year <= EU_B2C_THRESHOLD_EUR
    )
    if within_threshold and not seller.oss_registered:
        basis = f"Art. 59c {_DIRECTIVE}: EU-wide B2C sales within EUR 10,000"
        return charge(s, s.origin, Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD, basis)
    article = "33(a)" if s.line.kind is SupplyKind.GOODS else "58"
    basis = f"Art. {article} {_DIRECTIVE}; Union OSS (art. 369a-369k)"
    return charge(s, destination, Rule.EU_B2C_OSS_DESTINATION, basis, (NoteCode.OSS,))


def _domestic(s: Situation) -> TaxDecision:
    if s.origin in UNITED_KINGDOM:
        return charge(s, s.origin, Rule.UK_DOMESTIC, "VAT Act 1994 s. 4")
    kind = "goods" if s.line.kind is SupplyKind.GOODS else "services"
    articles = "31-32" if kind == "goods" else "44-45"
    return charge(s, s.origin, Rule.DOMESTIC, f"Art. {articles} {_DIRECTIVE}: {kind} at home")
