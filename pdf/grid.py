"""A table of pre-wrapped text: fixed columns, rows as tall as their lines, a repeated head.

reportlab's Table does far more (spans, nested flowables, styles by cell range) and pays for it
on every cell. An invoice's tables need only this, drawn with one text object per table, which
keeps a ten-line invoice at a few milliseconds. Row heights are exact (lines x leading +
padding), so where a page breaks can be computed from the layout constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from pdf.flowables import TextStyle, baseline


@dataclass(frozen=True)
class Rule:
    width: float
    color: Color


@dataclass(frozen=True)
class RowStyle:
    text: TextStyle
    background: Color | None = None
    rule_above: Rule | None = None
    rule_below: Rule | None = None


@dataclass(frozen=True)
class Row:
    cells: tuple[tuple[str, ...], ...]  # each cell's lines, already wrapped to its column
    style: RowStyle

    def height(self, pad_y: float) -> float:
        lines = max((len(cell) for cell in self.cells), default=1)
        return max(lines, 1) * self.style.text.leading + 2 * pad_y


def row(cells: Sequence[str | Sequence[str]], style: RowStyle) -> Row:
    return Row(tuple((c,) if isinstance(c, str) else tuple(c) for c in cells), style)


class Grid(Flowable):
    """Rows under an optional head; columns from `right_from` on are right-aligned. Splits
    between rows, repeating the head on the next page."""

    def __init__(
        self,
        widths: Sequence[float],
        rows: Sequence[Row],
        *,
        head: Row | None = None,
        right_from: int = 1,
        pad_x: float = 4.0,
        pad_y: float = 3.0,
        h_align: Literal["LEFT", "RIGHT"] = "LEFT",
    ) -> None:
        super().__init__()
        self.widths, self.rows, self.head = list(widths), list(rows), head
        self.right_from, self.pad_x, self.pad_y = right_from, pad_x, pad_y
        self.hAlign = self.align = h_align
        self.width = sum(self.widths)
        self.height = sum(r.height(pad_y) for r in self._all())

    def _all(self) -> list[Row]:
        return ([self.head] if self.head else []) + self.rows

    def _like(self, rows: Sequence[Row]) -> Grid:
        return Grid(
            self.widths,
            rows,
            head=self.head,
            right_from=self.right_from,
            pad_x=self.pad_x,
            pad_y=self.pad_y,
            h_align=self.align,
        )

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def split(self, aW: float, aH: float) -> list[Flowable]:  # noqa: N803
        used = self.head.height(self.pad_y) if self.head else 0.0
        fitting = 0
        for r in self.rows:
            used += r.height(self.pad_y)
            if used > aH:
                break
            fitting += 1
        if fitting == 0 or fitting == len(self.rows):
            return []
        return [self._like(self.rows[:fitting]), self._like(self.rows[fitting:])]

    def draw(self) -> None:
        rows = self._all()
        heights = [r.height(self.pad_y) for r in rows]
        self._backgrounds(rows, heights)
        self._text(rows, heights)
        self._rules(rows, heights)

    def _backgrounds(self, rows: list[Row], heights: list[float]) -> None:
        top = self.height
        for r, h in zip(rows, heights, strict=True):
            if r.style.background is not None:
                self.canv.setFillColor(r.style.background)
                self.canv.rect(0, top - h, self.width, h, stroke=0, fill=1)
            top -= h

    def _text(self, rows: list[Row], heights: list[float]) -> None:
        text = self.canv.beginText()
        top = self.height
        for r, h in zip(rows, heights, strict=True):
            style = r.style.text
            text.setFont(style.font, style.size)
            text.setFillColor(style.color)
            left = 0.0
            for index, (cell, width) in enumerate(zip(r.cells, self.widths, strict=True)):
                y = top - self.pad_y - baseline(style)
                for line in cell:
                    if index >= self.right_from:
                        x = left + width - self.pad_x - stringWidth(line, style.font, style.size)
                    else:
                        x = left + self.pad_x
                    text.setTextOrigin(x, y)
                    text.textOut(line)
                    y -= style.leading
                left += width
            top -= h
        self.canv.drawText(text)

    def _rules(self, rows: list[Row], heights: list[float]) -> None:
        by_kind: dict[Rule, list[tuple[float, float, float, float]]] = {}
        top = self.height
        for r, h in zip(rows, heights, strict=True):
            if r.style.rule_above:
                by_kind.setdefault(r.style.rule_above, []).append((0, top, self.width, top))
            if r.style.rule_below:
                by_kind.setdefault(r.style.rule_below, []).append((0, top - h, self.width, top - h))
            top -= h
        for rule, segments in by_kind.items():
            self.canv.setStrokeColor(rule.color)
            self.canv.setLineWidth(rule.width)
            self.canv.lines(segments)
