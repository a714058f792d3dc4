"""Offline tax-id validation: format and check digit, per scheme."""

from __future__ import annotations

import pytest

from ledger.tax import TaxIdStatus, check_tax_id


@pytest.mark.parametrize(
    ("country", "number", "compact", "issuer"),
    [
        ("DE", "DE 136 695 976", "DE136695976", "DE"),
        ("DE", "136695976", "DE136695976", "DE"),  # the prefix is added from the country
        ("FR", "FR40303265045", "FR40303265045", "FR"),
        ("NL", "NL004495445B01", "NL004495445B01", "NL"),
        ("IT", "IT00743110157", "IT00743110157", "IT"),
        ("GR", "EL094259216", "EL094259216", "GR"),
        ("GR", "094259216", "EL094259216", "GR"),  # Greece's numbers take EL
        ("GR", "GR094259216", "EL094259216", "GR"),  # a GR prefix is read as EL
        ("AT", "ATU13585627", "ATU13585627", "AT"),
        ("XI", "XI980780684", "XI980780684", "XI"),
        ("GB", "GB 980 7806 84", "GB980780684", "GB"),
        ("GB", "980780684", "GB980780684", "GB"),
        ("XI", "GB980780684", "GB980780684", "GB"),  # a GB number is a UK id, not an EU one
        ("IN", "27AAPFU0939F1ZV", "27AAPFU0939F1ZV", "IN"),
        ("IN", "27aapfu0939f1zv", "27AAPFU0939F1ZV", "IN"),
        ("CH", "CHE-107.787.577 MWST", "CHE107787577MWST", "CH"),
        ("NO", "NO 995 525 828 MVA", "NO995525828MVA", "NO"),
        ("US", "DE136695976", "DE136695976", "DE"),  # a prefixed id is checked by its prefix
    ],
)
def test_valid_ids_pass_and_are_compacted(
    country: str, number: str, compact: str, issuer: str
) -> None:
    check = check_tax_id(country, number)
    assert (check.status, check.number, check.country) == (TaxIdStatus.VALID, compact, issuer)


@pytest.mark.parametrize(
    ("country", "number"),
    [
        ("DE", "DE136695977"),  # check digit
        ("FR", "FR41303265045"),  # check digits
        ("NL", "NL004495446B01"),  # check digit
        ("IT", "IT00743110158"),  # check digit
        ("GB", "GB980780685"),  # check digits
        ("IN", "27AAPFU0939F1ZW"),  # check character
        ("IN", "99AAPFU0939F1ZV"),  # unknown state code
        ("DE", "DE12345"),  # length
        ("FR", "EU372000041"),  # an OSS number is not a French VAT id
        ("CH", "CHE-107.787.578"),
        ("NO", "NO 995 525 829 MVA"),
    ],
)
def test_invalid_ids_fail(country: str, number: str) -> None:
    assert check_tax_id(country, number).status is TaxIdStatus.INVALID


@pytest.mark.parametrize("number", [None, "", "   "])
def test_no_id_is_missing(number: str | None) -> None:
    assert check_tax_id("DE", number).status is TaxIdStatus.MISSING


def test_an_id_from_a_country_without_a_validator_is_unchecked() -> None:
    check = check_tax_id("US", "12-3456789")
    assert (check.status, check.number, check.country) == (TaxIdStatus.UNCHECKED, "123456789", "US")
