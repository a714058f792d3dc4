"""Page geometry, type sizes, colours and paragraph styles shared by every document."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from pdf.flowables import TextStyle
from pdf.fonts import fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 20 * mm
# Pages after the first carry a one-line running header above the frame.
RUNNING_HEADER = 12 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

TEXT = HexColor("#1f2328")
MUTED = HexColor("#5b636b")
RULE = HexColor("#c9ced4")
SHADE = HexColor("#eef1f4")
ACCENT = HexColor("#1d4f91")
DRAFT_MARK = Color(0.55, 0.58, 0.62, alpha=0.22)
VOID_MARK = Color(0.78, 0.12, 0.12, alpha=0.22)

BODY_SIZE = 9.0
SMALL_SIZE = 8.0
# One line of a table row: the leading plus top and bottom padding. Every single-line row
# of the line table is exactly this tall, which is what makes page breaks predictable.
ROW_LEADING = 11.0
ROW_PADDING = 3.0
ROW_HEIGHT = ROW_LEADING + 2 * ROW_PADDING

# The line table: position, description (takes what is left), quantity, unit price,
# tax category and rate, net amount.
LINE_COLUMNS = (26.0, None, 44.0, 70.0, 58.0, 76.0)
LOGO_MAX_WIDTH = 45 * mm
LOGO_MAX_HEIGHT = 18 * mm


def line_columns() -> list[float]:
    fixed = sum(width for width in LINE_COLUMNS if width is not None)
    return [CONTENT_WIDTH - fixed if width is None else width for width in LINE_COLUMNS]


@dataclass(frozen=True)
class Styles:
    body: TextStyle
    muted: TextStyle
    muted_right: TextStyle
    party_name: TextStyle
    label: TextStyle
    title: TextStyle
    number: TextStyle
    heading: TextStyle
    meta_label: TextStyle
    meta_value: TextStyle


@cache
def styles() -> Styles:
    """Text styles, built once per process (they name the registered fonts)."""
    f = fonts()
    return Styles(
        body=TextStyle(f.regular, BODY_SIZE, 12.5, TEXT),
        muted=TextStyle(f.regular, SMALL_SIZE, 10.5, MUTED),
        muted_right=TextStyle(f.regular, SMALL_SIZE, 10.5, MUTED, "right"),
        party_name=TextStyle(f.bold, 11.0, 14.5, TEXT),
        label=TextStyle(f.bold, 7.0, 10.0, MUTED),
        title=TextStyle(f.bold, 20.0, 24.0, ACCENT, "right"),
        number=TextStyle(f.bold, 11.0, 15.0, TEXT, "right"),
        heading=TextStyle(f.bold, 10.0, 14.0, ACCENT),
        meta_label=TextStyle(f.regular, BODY_SIZE, 13.0, MUTED),
        meta_value=TextStyle(f.bold, BODY_SIZE, 13.0, TEXT),
    )
