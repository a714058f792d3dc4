"""Numbers, money, dates, rates, countries and tax names written the way a locale writes them."""

from __future__ import annotations

import gettext
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import pycountry

from ledger.money import UnknownCurrency, minor_units
from pdf.locales import Locale

# Symbols only where one is unambiguous and usual on invoices; other currencies show their code.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "INR": "₹", "JPY": "¥"}
# Countries whose consumption tax is a GST, with the name of the seller's registration number.
GST_IDS = {"IN": "GSTIN", "AU": "ABN", "NZ": "GST No.", "SG": "GST Reg. No.", "CA": "GST/HST No."}
# Countries where a business's tax id is a VAT number.
VAT_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK "
    "GB XI CH LI NO IS".split()
)
MAX_PRICE_PLACES = 6


def number(value: Decimal, loc: Locale, places: int | None = None) -> str:
    """1234.5 as "1,234.50" (en, places=2), "1.234,5" (de), "1 234,5" (fr); no exponent."""
    if places is None:
        value = value.normalize()
    else:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    integer, _, fraction = f"{abs(value):f}".partition(".")
    head = len(integer) % 3 or 3
    groups = [integer[:head]] + [integer[i : i + 3] for i in range(head, len(integer), 3)]
    text = loc.group.join(groups) + (loc.decimal + fraction if fraction else "")
    return "-" + text if value < 0 else text


def places(currency: str) -> int:
    try:
        return minor_units(currency)
    except UnknownCurrency:
        return 2


def amount(value: Decimal, currency: str, loc: Locale) -> str:
    """An amount in a column whose currency is said elsewhere: "1.190,00"."""
    return number(value, loc, places(currency))


def money(value: Decimal, currency: str, loc: Locale) -> str:
    """An amount with its currency: "€1,190.00" (en), "1.190,00 €" (de), "CHF 12.50" (en)."""
    symbol = SYMBOLS.get(currency)
    pattern = loc.money
    if symbol is None:
        symbol = currency
        pattern = pattern.replace("{symbol}{amount}", "{symbol}\u00a0{amount}")
    return pattern.format(amount=amount(value, currency, loc), symbol=symbol)


def price(value: Decimal, currency: str, loc: Locale) -> str:
    """A unit price: the currency's decimals, more when the price has them (0.0125)."""
    decimals = -min(0, int(value.normalize().as_tuple().exponent))
    return number(value, loc, min(MAX_PRICE_PLACES, max(places(currency), decimals)))


def quantity(value: Decimal, loc: Locale) -> str:
    return number(value, loc)


def percent(rate: Decimal, loc: Locale) -> str:
    return loc.percent.format(rate=number(rate, loc))


def day(value: date, loc: Locale) -> str:
    """23 Nov 2026 (en), 23.11.2026 (de), 23/11/2026 (fr, es, it), 23-11-2026 (nl)."""
    month = loc.months[value.month - 1] if loc.months else ""
    return loc.date.format(d=value.day, m=value.month, y=value.year, mon=month)


def currency_label(currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    return f"{currency} ({symbol})" if symbol else currency


def tax_name(seller_country: str | None, loc: Locale) -> str:
    """What the tax is called on this document: GST where the seller charges GST, else VAT."""
    return "GST" if seller_country in GST_IDS else loc.labels["vat"]


def tax_id_label(country: str | None, loc: Locale) -> str:
    if country in GST_IDS:
        return GST_IDS[country]
    return loc.labels["vat_id"] if country in VAT_COUNTRIES else loc.labels["tax_id"]


def category(code: str, loc: Locale) -> str:
    """ "Reverse charge (AE)": the EN 16931 category's name, with its code for the auditor."""
    name = loc.categories.get(code)
    return f"{name} ({code})" if name else code


@cache
def country_name(code: str, language: str) -> str:
    """The country's short name in the language, "Deutschland" for DE in German."""
    if code == "XI":
        return _translations(language).gettext("United Kingdom") + " (Northern Ireland)"
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = str(getattr(country, "common_name", None) or country.name)
    return _translations(language).gettext(name)


@cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language], fallback=True)
