"""The facts a tax decision rests on (normalized parties, checked ids) and decision builders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ledger.countries import is_country
from ledger.errors import InvalidInput
from ledger.tax.errors import SellerTaxIdInvalid, SellerTaxIdRequired
from ledger.tax.model import (
    Buyer,
    BuyerKind,
    Category,
    NoteCode,
    Rule,
    Seller,
    SupplyLine,
    TaxClass,
    TaxDecision,
)
from ledger.tax.rate_table import RateTable
from ledger.tax.tax_ids import TaxIdCheck, TaxIdStatus, check_tax_id
from ledger.tax.territories import EU_GOODS_AREA, vat_area
from ledger.tax.vies import ViesCheck, ViesStatus
from ledger.tax.wording import required_tax_ids

ZERO = Decimal(0)


@dataclass(frozen=True)
class Situation:
    """One line's supply, with the parties' ids checked and the buyer's tax status settled."""

    seller: Seller
    buyer: Buyer
    line: SupplyLine
    on: date
    rates: RateTable
    seller_id: TaxIdCheck
    buyer_id: TaxIdCheck
    buyer_is_business: bool
    advisories: tuple[NoteCode, ...]

    @property
    def origin(self) -> str:
        return self.seller.country

    @property
    def destination(self) -> str:
        """Where goods are delivered (the ship-to country, else the buyer's)."""
        return self.line.ship_to or self.buyer.country

    @property
    def buyer_id_country(self) -> str | None:
        """The territory of the buyer's valid tax id, if it has one."""
        return self.buyer_id.country if self.buyer_is_business and self.buyer_id.is_valid else None


def assess(
    seller: Seller, buyer: Buyer, line: SupplyLine, on: date, rates: RateTable, vies: ViesCheck
) -> Situation:
    seller_country = _country(seller.country, "seller.country")
    buyer_country = _country(buyer.country, "buyer.country")
    seller_id = check_tax_id(seller_country, seller.vat_id)
    if seller_id.status is TaxIdStatus.INVALID:
        raise SellerTaxIdInvalid(f"the seller's tax id {seller.vat_id!r} is not valid")
    buyer_id = check_tax_id(buyer_country, buyer.vat_id)
    # Ids are checked against the party's own country; the rules see the VAT area (MC -> FR).
    seller = replace(seller, country=vat_area(seller_country))
    buyer = replace(buyer, country=vat_area(buyer_country))
    if line.ship_to is not None:
        line = replace(line, ship_to=vat_area(_country(line.ship_to, "line.ship_to")))
    if buyer.kind is BuyerKind.BUSINESS and buyer_id.is_valid and buyer_id.country in EU_GOODS_AREA:
        buyer_id = replace(buyer_id, vies=vies.check(buyer_id.number or ""))
    business, advisories = _buyer_status(buyer, buyer_id)
    return Situation(seller, buyer, line, on, rates, seller_id, buyer_id, business, advisories)


def _country(code: str, field: str) -> str:
    code = code.strip().upper()
    if not is_country(code):
        raise InvalidInput(f"unknown country code {code!r}", field=field)
    return code


def _buyer_status(buyer: Buyer, buyer_id: TaxIdCheck) -> tuple[bool, tuple[NoteCode, ...]]:
    """Whether the buyer counts as a business for tax, and what to tell the caller if not.

    An invalid id (offline, or refused by VIES) makes a business buyer a consumer. In the
    EU VAT area a business needs a valid VAT id to be treated as one (art. 18 of
    Implementing Regulation 282/2011); elsewhere a missing id leaves the declared kind.
    """
    if buyer.kind is BuyerKind.CONSUMER:
        return False, ()
    if buyer_id.status is TaxIdStatus.INVALID or buyer_id.vies is ViesStatus.INVALID:
        return False, (NoteCode.BUYER_VAT_ID_INVALID,)
    if buyer_id.status is TaxIdStatus.MISSING and buyer.country in EU_GOODS_AREA:
        return False, (NoteCode.BUYER_VAT_ID_MISSING,)
    return True, ()


def charge(
    s: Situation, country: str, rule: Rule, legal_basis: str, notes: tuple[NoteCode, ...] = ()
) -> TaxDecision:
    """Tax the line where `country` says, at that country's rate for the line's class.

    A zero-rated product gives Z, an exempt one E (with the exemption wording).
    """
    tax_class = s.line.tax_class
    if tax_class is TaxClass.ZERO:
        return decided(s, Category.ZERO, ZERO, country, rule, legal_basis, notes)
    if tax_class is TaxClass.EXEMPT:
        notes = (*notes, NoteCode.EXEMPT)
        return decided(s, Category.EXEMPT, ZERO, country, rule, legal_basis, notes)
    rate = s.rates.rate(country, tax_class, s.on)
    return decided(s, Category.STANDARD, rate, country, rule, legal_basis, notes)


def decided(
    s: Situation,
    category: Category,
    rate: Decimal,
    country: str,
    rule: Rule,
    legal_basis: str,
    notes: tuple[NoteCode, ...] = (),
) -> TaxDecision:
    """A decision with the parties' facts filled in; K and AE need the seller's VAT id."""
    shown = required_tax_ids(rule, buyer_registered=s.buyer_id_country is not None)
    if rule in _NEEDS_SELLER_ID and not s.seller_id.is_valid:
        raise SellerTaxIdRequired(f"rule {rule.value} needs the seller's VAT id on the invoice")
    return TaxDecision(
        category=category,
        rate=rate,
        country=country,
        rule=rule,
        legal_basis=legal_basis,
        notes=notes,
        advisories=s.advisories,
        tax_ids_shown=shown,
        buyer_treated_as_consumer=s.buyer.kind is BuyerKind.BUSINESS and not s.buyer_is_business,
        buyer_tax_id=s.buyer_id,
    )


_NEEDS_SELLER_ID = frozenset({Rule.EU_B2B_GOODS_IC_SUPPLY, Rule.EU_B2B_SERVICES_REVERSE_CHARGE})
