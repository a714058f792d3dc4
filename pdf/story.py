"""The flowing content of a document, top to bottom: parties, lines, then the closing block."""

from __future__ import annotations

from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from pdf import parties, tables
from pdf.context import Context
from pdf.document import Kind
from pdf.flowables import KeyValues, TextBlock

SECTION_GAP = 14.0
# Start the lines table on a new page rather than squeeze it under the header.
MIN_TABLE_START = 80.0


def story(ctx: Context) -> list[Flowable]:
    s, doc = ctx.styles, ctx.doc
    flowables: list[Flowable] = [
        parties.header(ctx),
        Spacer(0, 22),
        parties.parties(ctx),
        Spacer(0, SECTION_GAP),
    ]
    if doc.corrects:
        flowables.append(TextBlock([(_credit_sentence(ctx), s.heading)], space_after=4))
    if doc.memo:
        flowables.append(TextBlock([(doc.memo, s.body)], space_after=8))
    flowables += [CondPageBreak(MIN_TABLE_START), tables.lines(ctx), Spacer(0, SECTION_GAP)]
    # Totals, wording and payment stay together, so the totals are on the last page.
    flowables.append(KeepTogether(_closing(ctx)))
    return flowables


def _credit_sentence(ctx: Context) -> str:
    """ "Credit note CN-2026-000001 for invoice INV-2026-000042 of 1 Mar 2026"."""
    corrects, number = ctx.doc.corrects, ctx.doc.shown_number
    assert corrects is not None
    fields = {"invoice": corrects.number, "date": ctx.day(corrects.issue_date)}
    if number:
        return ctx.label("credit_for", number=number, **fields)
    return ctx.label("credit_for_unnumbered", **fields)


def _closing(ctx: Context) -> list[Flowable]:
    s, doc = ctx.styles, ctx.doc
    closing: list[Flowable] = []
    if doc.tax_breakdown:
        heading = TextBlock([(ctx.label("breakdown"), s.heading)], space_after=3)
        closing += [heading, tables.breakdown(ctx), Spacer(0, 10)]
    closing += [tables.totals(ctx), Spacer(0, SECTION_GAP)]
    if doc.notes:
        closing.append(TextBlock([(ctx.label("notes"), s.heading)], space_after=2))
        closing += [TextBlock([(note, s.body)], space_after=3) for note in doc.notes]
        closing.append(Spacer(0, SECTION_GAP - 3))
    closing += _payment(ctx)
    return closing


def _payment(ctx: Context) -> list[Flowable]:
    """What to pay by when, and where to: only on a numbered, payable invoice."""
    s, doc = ctx.styles, ctx.doc
    number = doc.shown_number
    if doc.kind is Kind.CREDIT_NOTE or doc.is_draft or doc.is_void or not number:
        return []
    flowables: list[Flowable] = []
    if doc.amount_due > 0:
        fields = {"amount": ctx.money(doc.amount_due), "number": number}
        sentence = (
            ctx.label("pay_by", date=ctx.day(doc.due_date), **fields)
            if doc.due_date
            else ctx.label("pay", **fields)
        )
        flowables.append(TextBlock([(sentence, s.body)], space_after=4))
    bank = doc.seller.bank if doc.seller else None
    if bank:
        rows = [
            (ctx.label(key), value)
            for key, value in (
                ("bank", bank.bank_name),
                ("iban", iban_groups(bank.iban)),
                ("bic", bank.bic),
            )
            if value
        ]
        flowables.append(KeyValues(rows, s.meta_label, s.meta_value))
    if not flowables:
        return []
    return [TextBlock([(ctx.label("payment"), s.heading)], space_after=2), *flowables]


def iban_groups(iban: str | None) -> str | None:
    """DE89370400440532013000 as DE89 3704 0044 0532 0130 00, as printed on paper."""
    if not iban:
        return None
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
