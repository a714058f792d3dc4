"""What every page carries around its content: running header, footer, "page x of y", watermark."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, PageTemplate
from reportlab.platypus.doctemplate import BaseDocTemplate

from pdf.context import Context
from pdf.fonts import fonts
from pdf.i18n import tax_id_label
from pdf.layout import (
    DRAFT_MARK,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RULE,
    RUNNING_HEADER,
    SMALL_SIZE,
    VOID_MARK,
)

FOOTER_Y = MARGIN_BOTTOM - 17.0  # the footer's rule sits 6 pt under the frame
PAGE_LABEL_ROOM = 90.0  # kept free for "Page 12 of 12" at the footer's right
WATERMARK_MAX_SIZE = 130.0


@dataclass(frozen=True)
class Decor:
    """The texts around the content, already localized."""

    footer: str
    running_title: str
    running_right: str
    page_label: str  # with {page} and {pages}
    watermark: str | None = None
    watermark_color: Color | None = None


class PagedCanvas(Canvas):
    """A canvas that holds its pages back until the end, to write "page x of y" on each.
    This is reportlab's usual recipe: the total is known only once the story is laid out."""

    def __init__(self, *args: Any, decor: Decor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decor = decor
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 -- reportlab's name
        self._held.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # begin the next page, emit nothing

    def save(self) -> None:
        pages = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._page_number(pages)
            super().showPage()
        super().save()

    def _page_number(self, pages: int) -> None:
        label = self._decor.page_label.format(page=self.getPageNumber(), pages=pages)
        self.setFont(fonts().regular, SMALL_SIZE)
        self.setFillColor(MUTED)
        self.drawRightString(PAGE_WIDTH - MARGIN_X, FOOTER_Y, label)


def decor_of(ctx: Context) -> Decor:
    doc, seller = ctx.doc, ctx.doc.seller
    footer = [seller.name] if seller else []
    if seller and seller.vat_id:
        footer.append(f"{tax_id_label(seller.country, ctx.loc)} {seller.vat_id}")
    if seller and seller.registration_number:
        footer.append(f"{ctx.label('registration_number')} {seller.registration_number}")
    mark, color = (None, None)
    if doc.is_draft:
        mark, color = ctx.label("draft"), DRAFT_MARK
    elif doc.is_void:
        mark, color = ctx.label("void"), VOID_MARK
    return Decor(
        footer=" · ".join(footer),
        running_title=f"{ctx.heading} · {ctx.label('continued')}",
        running_right=seller.name if seller else "",
        page_label=ctx.loc.labels["page"],
        watermark=mark,
        watermark_color=color,
    )


def page_templates(decor: Decor) -> list[PageTemplate]:
    """The first page's frame starts under the top margin; later pages leave room for the
    running header."""
    height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    end = page_end(decor)
    return [
        PageTemplate(
            "first", [_frame("first", height)], onPageEnd=end, autoNextPageTemplate="later"
        ),
        PageTemplate(
            "later",
            [_frame("later", height - RUNNING_HEADER)],
            onPage=later_page(decor),
            onPageEnd=end,
        ),
    ]


def _frame(name: str, height: float) -> Frame:
    return Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        PAGE_WIDTH - 2 * MARGIN_X,
        height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id=name,
    )


def canvas_maker(decor: Decor) -> Callable[..., Canvas]:
    def make(*args: Any, **kwargs: Any) -> Canvas:
        return PagedCanvas(*args, decor=decor, **kwargs)

    return make


def later_page(decor: Decor) -> Callable[[Canvas, BaseDocTemplate], None]:
    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        f = fonts()
        top = PAGE_HEIGHT - MARGIN_TOP
        canvas.saveState()
        canvas.setFillColor(MUTED)
        canvas.setFont(f.bold, SMALL_SIZE)
        canvas.drawString(MARGIN_X, top - SMALL_SIZE, decor.running_title)
        canvas.setFont(f.regular, SMALL_SIZE)
        canvas.drawRightString(PAGE_WIDTH - MARGIN_X, top - SMALL_SIZE, decor.running_right)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN_X, top - SMALL_SIZE - 5, PAGE_WIDTH - MARGIN_X, top - SMALL_SIZE - 5)
        canvas.restoreState()

    return draw


def page_end(decor: Decor) -> Callable[[Canvas, BaseDocTemplate], None]:
    """The footer, then the watermark: translucent and over the content, so nothing hides it."""

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        _footer(canvas, decor)
        if not decor.watermark or decor.watermark_color is None:
            return
        bold = fonts().bold
        diagonal = math.hypot(PAGE_WIDTH, PAGE_HEIGHT)
        size = min(WATERMARK_MAX_SIZE, 0.7 * diagonal / stringWidth(decor.watermark, bold, 1))
        canvas.saveState()
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(math.degrees(math.atan2(PAGE_HEIGHT, PAGE_WIDTH)))
        canvas.setFillColor(decor.watermark_color)
        canvas.setFont(bold, size)
        canvas.drawCentredString(0, -size * 0.35, decor.watermark)
        canvas.restoreState()

    return draw


def _footer(canvas: Canvas, decor: Decor) -> None:
    regular = fonts().regular
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN_X, FOOTER_Y + 11, PAGE_WIDTH - MARGIN_X, FOOTER_Y + 11)
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, SMALL_SIZE)
    room = PAGE_WIDTH - 2 * MARGIN_X - PAGE_LABEL_ROOM
    canvas.drawString(MARGIN_X, FOOTER_Y, _fitted(decor.footer, regular, SMALL_SIZE, room))
    canvas.restoreState()


def _fitted(text: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis if it would run into the page number."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"
