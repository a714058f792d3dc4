"""Dated tax rates per country and class, read from the packaged files under `rates/`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from ledger.money import plain
from ledger.tax.errors import RateNotFound, UnsupportedTaxCountry
from ledger.tax.model import TaxClass

# Product classes that are categories (Z, E) rather than rates: never looked up.
UNRATED_CLASSES = frozenset({TaxClass.ZERO, TaxClass.EXEMPT})


@dataclass(frozen=True)
class RatePeriod:
    """One rate of one class in one country, valid from a day to a day (inclusive) or on."""

    country: str
    tax_class: TaxClass
    rate: Decimal
    valid_from: date
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class RateTable:
    """All rate periods, with aliases for territories that charge another's rates (XI -> GB)."""

    def __init__(self, periods: Iterable[RatePeriod], aliases: Mapping[str, str]) -> None:
        self._periods: dict[tuple[str, TaxClass], list[RatePeriod]] = {}
        for period in periods:
            self._periods.setdefault((period.country, period.tax_class), []).append(period)
        for key, found in self._periods.items():
            found.sort(key=lambda p: p.valid_from)
            _refuse_overlaps(key, found)
        self._aliases = dict(aliases)
        self._countries = frozenset(c for c, _ in self._periods) | frozenset(self._aliases)

    def countries(self) -> frozenset[str]:
        return self._countries

    def rate(self, country: str, tax_class: TaxClass, on: date) -> Decimal:
        """The rate of `tax_class` in `country` on `on`; RateNotFound when none is valid."""
        if country not in self._countries:
            raise UnsupportedTaxCountry(f"no tax rates for {country}", country=country)
        source = self._aliases.get(country, country)
        for period in self._periods.get((source, tax_class), []):
            if period.covers(on):
                return period.rate
        raise RateNotFound(
            f"no {tax_class.value} rate for {country} on {on.isoformat()}",
            country=country,
            tax_class=tax_class.value,
            date=on.isoformat(),
        )

    def rates_on(self, country: str, on: date) -> frozenset[Decimal]:
        """Every rate valid in `country` on `on`, whatever its class."""
        source = self._aliases.get(country, country)
        return frozenset(
            period.rate
            for (c, _), periods in self._periods.items()
            if c == source
            for period in periods
            if period.covers(on)
        )

    def periods(self) -> list[RatePeriod]:
        return [p for periods in self._periods.values() for p in periods]


def _refuse_overlaps(key: tuple[str, TaxClass], periods: list[RatePeriod]) -> None:
    for earlier, later in pairwise(periods):
        if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
            raise ValueError(f"overlapping rate periods for {key}: {earlier} and {later}")


@cache
def packaged_rates() -> RateTable:
    """The rate table built from every `rates/*.json` file shipped with the package."""
    periods: list[RatePeriod] = []
    aliases: dict[str, str] = {}
    folder = resources.files("ledger.tax").joinpath("rates")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            document = json.loads(entry.read_text(encoding="utf-8"))
            periods.extend(_period(row) for row in document["rates"])
            aliases.update(document.get("aliases", {}))
    return RateTable(periods, aliases)


def _period(row: Mapping[str, Any]) -> RatePeriod:
    try:
        rate = Decimal(row["rate"])
    except InvalidOperation as error:
        raise ValueError(f"bad rate in {row}") from error
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValueError(f"bad rate in {row}")
    valid_to = row.get("valid_to")
    return RatePeriod(
        country=row["country"],
        tax_class=TaxClass(row["class"]),
        rate=plain(rate),
        valid_from=date.fromisoformat(row["valid_from"]),
        valid_to=date.fromisoformat(valid_to) if valid_to else None,
    )
