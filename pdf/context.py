"""One rendering's inputs as the block builders need them: the document, its words and styles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pdf import i18n
from pdf.document import Document, Kind
from pdf.layout import Styles, styles
from pdf.locales import Locale, load


@dataclass(frozen=True)
class Context:
    doc: Document
    loc: Locale
    tax: str  # what the tax is called here: "VAT", "USt.", "GST"...
    styles: Styles

    @staticmethod
    def of(doc: Document, locale: str) -> Context:
        loc = load(locale)
        seller_country = doc.seller.country if doc.seller else None
        return Context(doc, loc, i18n.tax_name(seller_country, loc), styles())

    def label(self, key: str, **fields: str) -> str:
        return self.loc.labels[key].format(tax=self.tax, **fields)

    @property
    def title(self) -> str:
        return self.label("credit_note" if self.doc.kind is Kind.CREDIT_NOTE else "invoice")

    @property
    def heading(self) -> str:
        """ "Invoice INV-2026-000042", or only "Invoice" for a draft."""
        number = self.doc.shown_number
        return f"{self.title} {number}" if number else self.title

    def money(self, value: Decimal) -> str:
        return i18n.money(value, self.doc.currency, self.loc)

    def amount(self, value: Decimal) -> str:
        return i18n.amount(value, self.doc.currency, self.loc)

    def day(self, value: date) -> str:
        return i18n.day(value, self.loc)

    def percent(self, rate: Decimal) -> str:
        return i18n.percent(rate, self.loc)

    def country(self, code: str) -> str:
        return i18n.country_name(code, self.loc.code)
