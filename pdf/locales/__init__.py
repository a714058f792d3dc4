"""The languages documents are rendered in: labels, tax category names and conventions."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

SUPPORTED = ("en", "de", "fr", "nl", "es", "it")


class UnsupportedLocale(ValueError):
    """Raised for a locale that no module in `pdf.locales` describes."""


@dataclass(frozen=True)
class Locale:
    """How one language writes an invoice. Formats use `str.format` fields.

    `date` has {d} {m} {y} (and {mon}, a month abbreviation from `months`); `money` has
    {amount} and {symbol}; `percent` has {rate}. `labels` and `categories` are looked up
    by key; a missing key is a bug caught by a test that compares every locale with English.
    """

    code: str
    decimal: str
    group: str
    date: str
    percent: str
    money: str
    labels: Mapping[str, str]
    categories: Mapping[str, str]
    months: tuple[str, ...] = ()


def language(code: str) -> str:
    """The supported language of a locale tag: "de-AT" and "de_CH" are "de"."""
    base = code.replace("_", "-").split("-")[0].lower()
    if base not in SUPPORTED:
        raise UnsupportedLocale(code)
    return base


@cache
def load(code: str) -> Locale:
    module = importlib.import_module(f"{__name__}.{language(code)}")
    locale = module.LOCALE
    assert isinstance(locale, Locale)
    return locale
