"""Offline validation of tax ids (format and check digit) with python-stdnum."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.gb import vat as gb_vat
from stdnum.in_ import gstin
from stdnum.no import mva

from ledger.tax.territories import EU_GOODS_AREA, country_of_prefix, vat_prefix
from ledger.tax.vies import ViesStatus


class TaxIdStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"
    UNCHECKED = "unchecked"  # no offline validator for the id's country


@dataclass(frozen=True)
class TaxIdCheck:
    """What is known of a party's tax id. `country` is the territory that issued it
    (GR for an EL number, XI for an XI number); `number` is its compact form."""

    status: TaxIdStatus
    number: str | None = None
    country: str | None = None
    vies: ViesStatus = ViesStatus.NOT_CHECKED

    @property
    def is_valid(self) -> bool:
        return self.status is TaxIdStatus.VALID


_Validator = Callable[[str], str]


def _eu(number: str) -> str:
    return str(eu_vat.validate(number))


def _gb(number: str) -> str:
    return "GB" + str(gb_vat.validate(number))


def _ch(number: str) -> str:
    return str(ch_vat.validate(number))


def _no(number: str) -> str:
    return "NO" + str(mva.validate(number.removeprefix("NO")))


def _in(number: str) -> str:
    return str(gstin.validate(number))


_BY_COUNTRY: dict[str, _Validator] = {"GB": _gb, "CH": _ch, "NO": _no, "IN": _in}
_EU_PREFIXES = frozenset(vat_prefix(c) for c in EU_GOODS_AREA)


# A pure function of its arguments, asked twice per line of every document (the seller's
# id and the buyer's) with the same few ids: the answers (frozen) are kept.
@lru_cache(maxsize=4096)
def check_tax_id(country: str, number: str | None) -> TaxIdCheck:
    """Validate a VAT id, GSTIN, CHE UID or MVA number offline.

    The id's own prefix decides the scheme when it has one (DE..., EL..., XI..., GB...,
    CHE..., NO...); otherwise the party's `country` does (an EU id gets its prefix).
    """
    if number is None or not number.strip():
        return TaxIdCheck(TaxIdStatus.MISSING)
    cleaned = "".join(ch for ch in number.upper() if ch.isalnum())
    issuer, validator, candidate = _scheme(country, cleaned)
    if validator is None:
        return TaxIdCheck(TaxIdStatus.UNCHECKED, cleaned, issuer)
    try:
        return TaxIdCheck(TaxIdStatus.VALID, validator(candidate), issuer)
    except ValidationError:
        return TaxIdCheck(TaxIdStatus.INVALID, candidate, issuer)


def _scheme(country: str, cleaned: str) -> tuple[str, _Validator | None, str]:
    prefix = cleaned[:2]
    if prefix == "GR":  # a common slip for Greece's EL prefix
        prefix, cleaned = "EL", "EL" + cleaned[2:]
    if cleaned.startswith("CHE"):
        return "CH", _ch, cleaned
    if prefix in ("GB", "NO"):
        return prefix, _BY_COUNTRY[prefix], cleaned
    if prefix in _EU_PREFIXES:
        return country_of_prefix(prefix), _eu, cleaned
    if country in EU_GOODS_AREA:
        return country, _eu, vat_prefix(country) + cleaned
    return country, _BY_COUNTRY.get(country), cleaned


def gstin_state(number: str) -> str:
    """The GST state code of a GSTIN: its first two digits."""
    return number[:2]
