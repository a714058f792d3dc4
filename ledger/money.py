"""Money: currencies, their minor units, and half-up rounding to them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import pycountry

# ISO 4217 exponents that differ from the usual two decimal places. pycountry
# knows the codes but not the exponents, so the exceptions are listed here.
_MINOR_UNITS_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF").split(),
        0,
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    "CLF": 4,
    "UYW": 4,
}
# Codes that are not money one can invoice in: precious metals, testing, funds.
_NOT_TENDER = frozenset(
    ("XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX BOV CHE CHW COU MXV USN").split()
)


class UnknownCurrency(ValueError):
    """Raised for a code that is not an ISO 4217 currency one can invoice in."""


@cache
def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    if not is_currency(currency):
        raise UnknownCurrency(currency)
    return _MINOR_UNITS_EXCEPTIONS.get(currency, 2)


@cache
def is_currency(code: str) -> bool:
    return (
        len(code) == 3
        and code.isupper()
        and code not in _NOT_TENDER
        and pycountry.currencies.get(alpha_3=code) is not None
    )


@cache
def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up (away from zero on a tie) to the currency's minor unit."""
    # The rounding passed by position: a keyword costs the C method as much again.
    return amount.quantize(_minor_unit(currency), ROUND_HALF_UP)


def fits_minor_units(amount: Decimal, currency: str) -> bool:
    """True when the amount has no more decimals than the currency's minor unit."""
    return round_money(amount, currency) == amount


@cache  # a Decimal is immutable: one zero per currency serves every caller
def zero(currency: str) -> Decimal:
    return round_money(Decimal(0), currency)


def plain(value: Decimal) -> Decimal:
    """The shortest exact form, without exponent: 19.50 -> 19.5, 20 -> 20 (not 2E+1)."""
    reduced = value.normalize()
    if reduced == reduced.to_integral_value():
        return reduced.quantize(Decimal(1))
    return reduced
