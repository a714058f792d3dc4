"""The tax engine's entry point: one line's tax treatment from seller, buyer, line and date."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from ledger.money import plain
from ledger.tax.elsewhere import decide_elsewhere
from ledger.tax.errors import InvalidTaxRate, RateOverrideRefused, UnsupportedTaxCountry
from ledger.tax.eu import decide_eu
from ledger.tax.india import (
    INDIA,
    decide_india,
    place_of_supply_country,
    place_of_supply_state,
    seller_gst_state,
    with_gst,
)
from ledger.tax.model import Buyer, Category, Rule, Seller, SupplyKind, SupplyLine, TaxDecision
from ledger.tax.rate_table import RateTable, packaged_rates
from ledger.tax.situation import Situation, assess, decided
from ledger.tax.territories import EU_MEMBER_STATES
from ledger.tax.uk import decide_uk
from ledger.tax.vies import NO_VIES_CHECK, ViesCheck

_Rules = Callable[[Situation], TaxDecision]


def decide(
    seller: Seller,
    buyer: Buyer,
    line: SupplyLine,
    supply_date: date,
    *,
    rates: RateTable | None = None,
    vies: ViesCheck = NO_VIES_CHECK,
) -> TaxDecision:
    """The tax category, rate, country, rule and wording for one line supplied on a date."""
    if rates is None and vies is NO_VIES_CHECK:
        try:
            return _decided_on_packaged_rates(seller, buyer, line, supply_date)
        except TypeError:  # an unhashable input (a signalling NaN): decided, not kept
            pass
    return _decide(
        seller, buyer, line, supply_date, packaged_rates() if rates is None else rates, vies
    )


@lru_cache(maxsize=4096)
def _decided_on_packaged_rates(
    seller: Seller, buyer: Buyer, line: SupplyLine, supply_date: date
) -> TaxDecision:
    """A decision is a pure function of its (frozen) inputs when the rates are the packaged
    ones and no VIES service is asked, and a tenant's documents ask the same few questions
    again and again (each line of each draft and finalization): the answers are kept.
    Inputs that compare equal give equal decisions (rates come out in their plain form)."""
    return _decide(seller, buyer, line, supply_date, packaged_rates(), NO_VIES_CHECK)


def _decide(
    seller: Seller,
    buyer: Buyer,
    line: SupplyLine,
    supply_date: date,
    rates: RateTable,
    vies: ViesCheck,
) -> TaxDecision:
    s = assess(seller, buyer, line, supply_date, rates, vies)
    if s.line.tax_rate is not None:
        return _explicit_rate(s, s.line.tax_rate)
    return _rules_for(s)(s)


def decide_lines(
    seller: Seller,
    buyer: Buyer,
    lines: Iterable[SupplyLine],
    supply_date: date,
    *,
    rates: RateTable | None = None,
    vies: ViesCheck = NO_VIES_CHECK,
) -> list[TaxDecision]:
    return [decide(seller, buyer, line, supply_date, rates=rates, vies=vies) for line in lines]


def _rules_for(s: Situation) -> _Rules:
    origin = s.origin
    if origin == INDIA:
        return decide_india
    if origin in EU_MEMBER_STATES:
        return decide_eu
    if origin == "XI":
        # Northern Ireland: goods follow EU rules, services UK rules.
        return decide_eu if s.line.kind is SupplyKind.GOODS else decide_uk
    if origin == "GB":
        return decide_uk
    if origin in s.rates.countries():
        return decide_elsewhere
    raise UnsupportedTaxCountry(f"no tax rules for sellers in {origin}", country=origin)


def _explicit_rate(s: Situation, rate: Decimal) -> TaxDecision:
    """A rate the client gave: kept, and recorded as such, only if the seller allows it."""
    if not s.seller.allows_rate_override:
        raise RateOverrideRefused(
            "this seller does not allow explicit tax rates; the tax engine decides them",
            field="tax_rate",
        )
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise InvalidTaxRate(f"tax_rate {rate} is not a percentage from 0 to 100", field="tax_rate")
    category = Category.STANDARD if rate > 0 else Category.ZERO
    basis = "explicit rate from the client; the seller allows overrides"
    decision = decided(s, category, plain(rate), s.origin, Rule.EXPLICIT_OVERRIDE, basis)
    if s.origin == INDIA and place_of_supply_country(s) == INDIA:
        seller_state = seller_gst_state(s)
        return with_gst(decision, seller_state, place_of_supply_state(s, seller_state))
    return decision
