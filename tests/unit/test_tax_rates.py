"""The dated rate files: lookup by supply date, coverage, and the shape of the data."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from ledger.tax import (
    RateNotFound,
    RatePeriod,
    RateTable,
    TaxClass,
    UnsupportedTaxCountry,
    packaged_rates,
)
from ledger.tax.territories import EU_MEMBER_STATES

STANDARD, REDUCED, REDUCED_2 = TaxClass.STANDARD, TaxClass.REDUCED, TaxClass.REDUCED_2

# Standard rates in tax-notes.md §2 (TEDB 2026-09-29).
TAX_NOTES_STANDARD = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
    "EE": "24", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27",
    "IE": "23", "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21",
    "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23", "GB": "20",
    "XI": "20",
}  # fmt: skip


def rate(country: str, tax_class: TaxClass, on: date) -> str:
    return str(packaged_rates().rate(country, tax_class, on))


@pytest.mark.parametrize(("country", "expected"), sorted(TAX_NOTES_STANDARD.items()))
def test_standard_rates_match_tax_notes_in_late_2026(country: str, expected: str) -> None:
    assert rate(country, STANDARD, date(2026, 9, 29)) == expected


def test_every_member_state_has_a_standard_rate_throughout_the_coverage() -> None:
    assert {c for c in EU_MEMBER_STATES if packaged_rates().rates_on(c, date(2025, 1, 1))} == set(
        EU_MEMBER_STATES
    )


@pytest.mark.parametrize(
    ("country", "tax_class", "before", "after", "old", "new"),
    [
        ("FI", STANDARD, date(2024, 8, 31), date(2024, 9, 1), "24", "25.5"),
        ("EE", STANDARD, date(2025, 6, 30), date(2025, 7, 1), "22", "24"),
        ("RO", STANDARD, date(2025, 7, 31), date(2025, 8, 1), "19", "21"),
        ("FI", REDUCED_2, date(2025, 12, 31), date(2026, 1, 1), "14", "13.5"),
        ("GB", STANDARD, date(2011, 1, 3), date(2011, 1, 4), "17.5", "20"),
        ("CH", STANDARD, date(2023, 12, 31), date(2024, 1, 1), "7.7", "8.1"),
        ("CH", REDUCED, date(2023, 12, 31), date(2024, 1, 1), "2.5", "2.6"),
        ("CH", REDUCED_2, date(2023, 12, 31), date(2024, 1, 1), "3.7", "3.8"),
        ("IN", TaxClass.DEMERIT, date(2025, 9, 21), date(2025, 9, 22), "28", "40"),
    ],
)
def test_the_rate_changes_on_the_day_the_data_says(
    country: str, tax_class: TaxClass, before: date, after: date, old: str, new: str
) -> None:
    assert (rate(country, tax_class, before), rate(country, tax_class, after)) == (old, new)


def test_austrias_super_reduced_rate_starts_on_1_july_2026() -> None:
    with pytest.raises(RateNotFound):
        rate("AT", TaxClass.SUPER_REDUCED, date(2026, 6, 30))
    assert rate("AT", TaxClass.SUPER_REDUCED, date(2026, 7, 1)) == "4.9"


def test_india_loses_the_12_and_28_slabs_on_22_september_2025() -> None:
    table = packaged_rates()
    before, after = date(2025, 9, 21), date(2025, 9, 22)
    assert sorted(table.rates_on("IN", before)) == [Decimal(x) for x in ("5", "12", "18", "28")]
    assert sorted(table.rates_on("IN", after)) == [Decimal(x) for x in ("5", "18", "40")]


def test_northern_ireland_charges_uk_rates() -> None:
    for tax_class in (STANDARD, REDUCED):
        assert rate("XI", tax_class, date(2026, 1, 1)) == rate("GB", tax_class, date(2026, 1, 1))


def test_norway_rates() -> None:
    on = date(2026, 1, 1)
    assert [rate("NO", c, on) for c in (STANDARD, REDUCED_2, REDUCED)] == ["25", "15", "12"]


def test_a_date_before_the_data_is_refused_with_a_clear_error() -> None:
    with pytest.raises(RateNotFound) as raised:
        rate("DE", STANDARD, date(2020, 7, 1))
    assert "no standard rate for DE on 2020-07-01" in str(raised.value)


def test_a_country_without_data_is_refused() -> None:
    with pytest.raises(UnsupportedTaxCountry):
        rate("US", STANDARD, date(2026, 1, 1))


def test_rates_are_decimals_in_plain_form() -> None:
    for period in packaged_rates().periods():
        assert isinstance(period.rate, Decimal)
        assert "E" not in str(period.rate)
        assert period.rate == period.rate.normalize()


def test_overlapping_periods_are_refused() -> None:
    periods = [
        RatePeriod("DE", STANDARD, Decimal(16), date(2020, 7, 1), date(2020, 12, 31)),
        RatePeriod("DE", STANDARD, Decimal(19), date(2020, 12, 31)),
    ]
    with pytest.raises(ValueError, match="overlapping"):
        RateTable(periods, {})


def test_an_open_ended_period_followed_by_another_is_refused() -> None:
    periods = [
        RatePeriod("DE", STANDARD, Decimal(16), date(2020, 7, 1)),
        RatePeriod("DE", STANDARD, Decimal(19), date(2021, 1, 1)),
    ]
    with pytest.raises(ValueError, match="overlapping"):
        RateTable(periods, {})


def _rate_files() -> list[dict[str, object]]:
    folder = resources.files("ledger.tax").joinpath("rates")
    return [
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]


def test_every_row_says_where_its_rate_comes_from() -> None:
    files = _rate_files()
    assert len(files) == 5
    for document in files:
        codes = document["basis_codes"]
        assert isinstance(codes, dict)
        rows = document["rates"]
        assert isinstance(rows, list)
        for row in rows:
            assert row["basis"] in codes
            assert set(row) <= {"country", "class", "rate", "valid_from", "valid_to", "basis"} | {
                "note",
                "label",
            }
