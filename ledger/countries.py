"""ISO 3166-1 alpha-2 country codes."""

from functools import cache
from typing import Any

import pycountry

from ledger.errors import InvalidInput


@cache
def is_country(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code, plus XI (Northern Ireland for VAT)."""
    if code == "XI":
        return True
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def check_country_fields(profile: dict[str, Any]) -> None:
    """Refuse a profile whose `country` or `address.country` is not a real code."""
    if "country" in profile and not is_country(profile["country"]):
        raise InvalidInput(f"unknown country code {profile['country']!r}", field="country")
    address = profile.get("address") or {}
    if address.get("country") and not is_country(address["country"]):
        raise InvalidInput(f"unknown country code {address['country']!r}", field="address.country")
