from decimal import Decimal

import pytest

from ledger.money import (
    UnknownCurrency,
    fits_minor_units,
    is_currency,
    minor_units,
    plain,
    round_money,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "EUR", "0.01"),
        ("-0.005", "EUR", "-0.01"),  # half-up is away from zero
        ("0.0049", "EUR", "0.00"),
        ("2.5", "JPY", "3"),
        ("1.0005", "KWD", "1.001"),
        ("10", "EUR", "10.00"),
    ],
)
def test_rounding_is_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert str(round_money(Decimal(amount), currency)) == expected


def test_minor_units_follow_iso_4217() -> None:
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)


@pytest.mark.parametrize("code", ["ABC", "eur", "XAU", "XTS", "EURO", ""])
def test_codes_that_are_not_invoiceable_currencies_are_refused(code: str) -> None:
    assert not is_currency(code)
    with pytest.raises(UnknownCurrency):
        minor_units(code)


def test_an_amount_fits_the_currency_only_without_extra_decimals() -> None:
    assert fits_minor_units(Decimal("1.10"), "EUR")
    assert not fits_minor_units(Decimal("1.105"), "EUR")
    assert not fits_minor_units(Decimal("1.5"), "JPY")


@pytest.mark.parametrize(
    ("value", "expected"), [("19.50", "19.5"), ("20", "20"), ("5.50", "5.5"), ("100", "100")]
)
def test_plain_gives_the_shortest_form_without_exponent(value: str, expected: str) -> None:
    assert str(plain(Decimal(value))) == expected
