"""The top of the first page: seller and title, then buyer and the document's dates."""

from __future__ import annotations

from reportlab.platypus import Flowable

from pdf.context import Context
from pdf.document import Address, Party
from pdf.flowables import Columns, KeyValues, Logo, Stack, TextBlock, TextStyle
from pdf.i18n import currency_label, tax_id_label
from pdf.layout import LOGO_MAX_HEIGHT, LOGO_MAX_WIDTH

# Countries that write the city before the postal code, on one line ("Austin, TX 78701").
CITY_FIRST = frozenset({"US", "CA", "AU"})
# Countries that put the postal code on its own line, after the city.
POSTCODE_LAST = frozenset({"GB", "IE", "XI"})
# Countries that write the postal code after the city, the region on the next line.
CITY_THEN_POSTCODE = frozenset({"IN"})
LEFT_SHARE = 0.56


def address_lines(address: Address, ctx: Context) -> list[str]:
    a = address
    if a.country in CITY_FIRST:
        place = [" ".join(filter(None, [f"{a.city},", a.region, a.postal_code]))]
    elif a.country in POSTCODE_LAST:
        place = [a.city, a.region or "", a.postal_code or ""]
    elif a.country in CITY_THEN_POSTCODE:
        place = [" ".join(filter(None, [a.city, a.postal_code])), a.region or ""]
    else:
        place = [" ".join(filter(None, [a.postal_code, a.city])), a.region or ""]
    country = [ctx.country(a.country)] if a.country else []
    return [line for line in [a.line1, a.line2 or "", *place, *country] if line]


def _party(party: Party, ctx: Context) -> TextBlock:
    s = ctx.styles
    runs: list[tuple[str, TextStyle]] = [(party.name, s.party_name)]
    if party.address:
        runs += [(line, s.body) for line in address_lines(party.address, ctx)]
    if party.vat_id:
        country = party.country or (party.address.country if party.address else None)
        runs.append((f"{tax_id_label(country, ctx.loc)} {party.vat_id}", s.muted))
    if party.registration_number:
        runs.append((f"{ctx.label('registration_number')} {party.registration_number}", s.muted))
    return TextBlock(runs)


def header(ctx: Context) -> Flowable:
    """Seller (under the logo) on the left; the title and number on the right."""
    s, doc = ctx.styles, ctx.doc
    left: list[Flowable] = []
    if doc.logo_png:
        left.append(Logo(doc.logo_png, LOGO_MAX_WIDTH, LOGO_MAX_HEIGHT))
    if doc.seller:
        left.append(_party(doc.seller, ctx))
    number = doc.shown_number
    title: list[tuple[str, TextStyle]] = [(ctx.title.upper(), s.title)]
    title.append((number, s.number) if number else (ctx.label("unnumbered"), s.muted_right))
    return Columns(Stack(left), Stack([TextBlock(title)], "right"), LEFT_SHARE)


def parties(ctx: Context) -> Flowable:
    """The buyer on the left; dates, currency and the corrected invoice on the right."""
    s, doc = ctx.styles, ctx.doc
    left: list[Flowable] = [TextBlock([(ctx.label("bill_to").upper(), s.label)])]
    if doc.buyer:
        left.append(_party(doc.buyer, ctx))
    return Columns(Stack(left), Stack([_meta(ctx)], "right"), LEFT_SHARE)


def _meta(ctx: Context) -> KeyValues:
    doc = ctx.doc
    rows = [
        (ctx.label(key), ctx.day(value))
        for key, value in (
            ("issue_date", doc.issue_date),
            ("supply_date", doc.supply_date),
            ("due_date", doc.due_date),
        )
        if value is not None
    ]
    rows.append((ctx.label("currency"), currency_label(doc.currency)))
    if doc.corrects:
        rows.append((ctx.label("corrects"), doc.corrects.number))
    return KeyValues(rows, ctx.styles.meta_label, ctx.styles.meta_value, flush_right=True)
