"""Which country codes form the EU, the UK and India's GST states, for the tax rules."""

from __future__ import annotations

EU_MEMBER_STATES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
# Northern Ireland stays in the EU's VAT area for goods (Windsor Framework), not for services.
EU_GOODS_AREA = EU_MEMBER_STATES | {"XI"}
UNITED_KINGDOM = frozenset({"GB", "XI"})

# VAT numbers use EL for Greece; every other prefix is the ISO code.
_VAT_PREFIX = {"GR": "EL"}
_COUNTRY_OF_PREFIX = {"EL": "GR"}

# GST state codes (the first two digits of a GSTIN), per the GSTN list.
GST_STATES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "25": "Daman and Diu",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "28": "Andhra Pradesh (before 2014)",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
}
# Union territories without a legislature levy UTGST instead of SGST (UTGST Act 2017).
GST_UNION_TERRITORIES = frozenset({"04", "25", "26", "31", "35", "38", "97"})


def vat_prefix(country: str) -> str:
    """The two letters a VAT number of this territory starts with (GR -> EL)."""
    return _VAT_PREFIX.get(country, country)


def country_of_prefix(prefix: str) -> str:
    """The territory a VAT number prefix belongs to (EL -> GR)."""
    return _COUNTRY_OF_PREFIX.get(prefix, prefix)


# Territories taxed as part of a neighbour's VAT area: Monaco with France (art. 7 of
# Directive 2006/112/EC), the Isle of Man with the UK, Liechtenstein with Switzerland.
_VAT_AREA = {"MC": "FR", "IM": "GB", "LI": "CH"}


def vat_area(country: str) -> str:
    """The country whose VAT applies in `country` (MC -> FR); itself for most."""
    return _VAT_AREA.get(country, country)
