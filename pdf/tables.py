"""The document's figures: its lines, the tax breakdown per category and rate, and the totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from pdf import i18n
from pdf.context import Context
from pdf.document import Kind
from pdf.flowables import TextStyle, wrap
from pdf.fonts import fonts
from pdf.grid import Grid, Row, RowStyle, Rule, row
from pdf.layout import (
    BODY_SIZE,
    CONTENT_WIDTH,
    MUTED,
    ROW_LEADING,
    ROW_PADDING,
    RULE,
    SHADE,
    SMALL_SIZE,
    TEXT,
    line_columns,
)

CELL_PADDING_X = 4.0
BREAKDOWN_COLUMNS = (None, 52.0, 96.0, 96.0)
TOTALS_COLUMNS = (150.0, 96.0)
TOTALS_PADDING = 2.5


@dataclass(frozen=True)
class RowStyles:
    head: RowStyle
    body: RowStyle
    component: RowStyle
    sum: RowStyle
    total: RowStyle
    due: RowStyle


@cache
def row_styles() -> RowStyles:
    f = fonts()
    hairline, heavy = Rule(0.25, RULE), Rule(0.8, TEXT)
    return RowStyles(
        head=RowStyle(TextStyle(f.bold, SMALL_SIZE, ROW_LEADING, MUTED), SHADE, None, heavy),
        body=RowStyle(TextStyle(f.regular, BODY_SIZE, ROW_LEADING, TEXT), rule_below=hairline),
        component=RowStyle(
            TextStyle(f.regular, BODY_SIZE, ROW_LEADING, MUTED), rule_below=hairline
        ),
        sum=RowStyle(TextStyle(f.regular, BODY_SIZE, ROW_LEADING, TEXT)),
        total=RowStyle(TextStyle(f.bold, 10.5, 13.0, TEXT), rule_above=heavy),
        due=RowStyle(TextStyle(f.bold, 10.5, 13.0, TEXT), SHADE, hairline),
    )


def _widths(columns: Sequence[float | None]) -> list[float]:
    fixed = sum(width for width in columns if width is not None)
    return [CONTENT_WIDTH - fixed if width is None else width for width in columns]


def _head(labels: Sequence[str], widths: Sequence[float]) -> Row:
    """Column headings, wrapped to their columns (some languages have long words)."""
    style = row_styles().head
    return row(
        [
            wrap(label, style.text.font, style.text.size, width - 2 * CELL_PADDING_X)
            for label, width in zip(labels, widths, strict=True)
        ],
        style,
    )


def lines(ctx: Context) -> Grid:
    """One row per line; the head repeats on every page the table runs onto."""
    widths = line_columns()
    labels = [ctx.label(key) for key in ("pos", "description", "quantity", "unit_price")]
    body = row_styles().body
    description_width = widths[1] - 2 * CELL_PADDING_X
    rows = [
        row(
            [
                str(position),
                wrap(line.description, body.text.font, body.text.size, description_width),
                i18n.quantity(line.quantity, ctx.loc),
                i18n.price(line.unit_price, ctx.doc.currency, ctx.loc),
                f"{line.tax_category} {ctx.percent(line.tax_rate)}",
                ctx.amount(line.net_amount),
            ],
            body,
        )
        for position, line in enumerate(ctx.doc.lines, start=1)
    ]
    head = _head([*labels, ctx.tax, ctx.label("net")], widths)
    return Grid(widths, rows, head=head, right_from=2, pad_x=CELL_PADDING_X, pad_y=ROW_PADDING)


def breakdown(ctx: Context) -> Grid:
    """Taxable amount and tax per category and rate; GST groups show their components."""
    doc, styles = ctx.doc, row_styles()
    countries = {group.country for group in doc.tax_breakdown}
    seller_country = doc.seller.country if doc.seller else None
    show_country = len(countries) > 1 or bool(countries - {seller_country, None})
    widths = _widths(BREAKDOWN_COLUMNS)
    name_width = widths[0] - 2 * CELL_PADDING_X
    rows: list[Row] = []
    for group in doc.tax_breakdown:
        name = i18n.category(group.category, ctx.loc)
        if show_country and group.country:
            name = f"{name} · {group.country}"
        cells = [
            wrap(name, styles.body.text.font, BODY_SIZE, name_width),
            ctx.percent(group.rate),
            ctx.amount(group.taxable_amount),
            ctx.amount(group.tax_amount),
        ]
        rows.append(row(cells, styles.body))
        rows += [
            row(
                [f"    {part.name}", ctx.percent(part.rate), "", ctx.amount(part.amount)],
                styles.component,
            )
            for part in group.components
        ]
    labels = [ctx.label(key) for key in ("category", "rate", "taxable_amount", "tax_amount")]
    head = _head(labels, widths)
    return Grid(widths, rows, head=head, right_from=1, pad_x=CELL_PADDING_X, pad_y=ROW_PADDING)


def totals(ctx: Context) -> Grid:
    """Net, tax and gross; on an open invoice also what was paid or credited and what is due."""
    doc, styles = ctx.doc, row_styles()
    credit = doc.kind is Kind.CREDIT_NOTE
    rows: list[tuple[str, Decimal, RowStyle]] = [
        (ctx.label("subtotal"), doc.subtotal, styles.sum),
        (ctx.label("tax_total"), doc.tax_total, styles.sum),
        (ctx.label("total_credited" if credit else "total"), doc.total, styles.total),
    ]
    if not (credit or doc.is_draft or doc.is_void):
        if doc.amount_credited:
            rows.append((ctx.label("amount_credited"), -doc.amount_credited, styles.sum))
        rows.append((ctx.label("amount_paid"), -doc.amount_paid, styles.sum))
        rows.append((ctx.label("amount_due"), doc.amount_due, styles.due))
    return Grid(
        TOTALS_COLUMNS,
        [row([label, ctx.money(value)], style) for label, value, style in rows],
        right_from=1,
        pad_x=CELL_PADDING_X,
        pad_y=TOTALS_PADDING,
        h_align="RIGHT",
    )
