"""Light flowables for plain text: measured and wrapped by width, no Paragraph markup to parse.

A Paragraph costs a markup parse and a fragment layout; a document of plain strings in known
fonts needs neither, and laying text out this way is several times faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from reportlab.lib.colors import Color
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable


@dataclass(frozen=True)
class TextStyle:
    font: str
    size: float
    leading: float
    color: Color
    align: str = "left"  # or "right"

    def width(self, text: str) -> float:
        return stringWidth(text, self.font, self.size)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points: explicit line breaks kept, words kept whole unless
    one alone is wider than the line."""
    lines: list[str] = []
    space = stringWidth(" ", font, size)
    for paragraph in text.replace("\r\n", "\n").replace("\t", " ").split("\n"):
        current: list[str] = []
        used = 0.0
        # Split at plain spaces only: no-break spaces (1 234,56 €) keep their words together.
        for word in filter(None, paragraph.split(" ")):
            word_width = stringWidth(word, font, size)
            if current and used + space + word_width > width:
                lines.append(" ".join(current))
                current, used = [], 0.0
            while word_width > width:  # a word longer than the line: cut it
                cut = _fitting(word, font, size, width)
                lines.append(word[:cut])
                word = word[cut:]
                word_width = stringWidth(word, font, size)
            used += (space if current else 0.0) + word_width
            current.append(word)
        lines.append(" ".join(current))
    return lines


def _fitting(word: str, font: str, size: float, width: float) -> int:
    cut = len(word)
    while cut > 1 and stringWidth(word[:cut], font, size) > width:
        cut -= 1
    return cut


def baseline(style: TextStyle) -> float:
    """Distance from a line's top to its baseline: the glyphs sit centred in the leading."""
    return (style.leading + style.size) / 2 - style.size * 0.12


class TextBlock(Flowable):
    """Lines of text, each run in its own style, wrapped to the width it is given."""

    def __init__(self, runs: Sequence[tuple[str, TextStyle]], space_after: float = 0.0) -> None:
        super().__init__()
        self.runs = list(runs)
        self.spaceAfter = space_after
        self.lines: list[tuple[str, TextStyle]] = []
        self.width = self.height = 0.0

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803
        self.width = aW
        self.lines = [
            (line, style)
            for text, style in self.runs
            for line in wrap(text, style.font, style.size, aW)
        ]
        self.height = sum(style.leading for _, style in self.lines)
        return aW, self.height

    def split(self, aW: float, aH: float) -> list[Flowable]:  # noqa: N803
        self.wrap(aW, aH)
        used, cut = 0.0, 0
        for _, style in self.lines:
            if used + style.leading > aH:
                break
            used += style.leading
            cut += 1
        if cut == 0 or cut == len(self.lines):
            return []
        return [TextBlock(self.lines[:cut]), TextBlock(self.lines[cut:], self.spaceAfter)]

    def draw(self) -> None:
        text = self.canv.beginText()
        top = self.height
        for line, style in self.lines:
            x = self.width - style.width(line) if style.align == "right" else 0.0
            text.setFont(style.font, style.size)
            text.setFillColor(style.color)
            text.setTextOrigin(x, top - baseline(style))
            text.textOut(line)
            top -= style.leading
        self.canv.drawText(text)


class KeyValues(Flowable):
    """Label and value pairs: labels in a column as wide as the widest, values after them
    (or flush right, for the dates block in the top-right corner)."""

    GAP = 12.0

    def __init__(
        self,
        rows: Sequence[tuple[str, str]],
        label: TextStyle,
        value: TextStyle,
        flush_right: bool = False,
    ) -> None:
        super().__init__()
        self.rows, self.label, self.value, self.flush_right = list(rows), label, value, flush_right
        self.label_width = max((label.width(k) for k, _ in self.rows), default=0.0)
        self.value_width = max((value.width(v) for _, v in self.rows), default=0.0)
        self.width = self.label_width + self.GAP + self.value_width
        self.height = len(self.rows) * max(label.leading, value.leading)

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        label, value = self.label, self.value
        leading = max(label.leading, value.leading)
        text = self.canv.beginText()
        top = self.height
        for key, shown in self.rows:
            text.setFont(label.font, label.size)
            text.setFillColor(label.color)
            text.setTextOrigin(0, top - baseline(label))
            text.textOut(key)
            x = self.width - value.width(shown) if self.flush_right else self.label_width + self.GAP
            text.setFont(value.font, value.size)
            text.setFillColor(value.color)
            text.setTextOrigin(x, top - baseline(value))
            text.textOut(shown)
            top -= leading
        self.canv.drawText(text)


class Stack(Flowable):
    """Flowables one above the other, left- or right-aligned in a given width."""

    def __init__(self, parts: Sequence[Flowable], align: str = "left") -> None:
        super().__init__()
        self.parts, self.align = list(parts), align
        self.sizes: list[tuple[float, float]] = []

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803
        self.sizes = [part.wrapOn(self.canv, aW, aH) for part in self.parts]
        self.width = aW
        pairs = zip(self.parts, self.sizes, strict=True)
        self.height = sum(h + part.getSpaceAfter() for part, (_, h) in pairs)
        return aW, self.height

    def draw(self) -> None:
        top = self.height
        for part, (width, height) in zip(self.parts, self.sizes, strict=True):
            top -= height
            x = self.width - width if self.align == "right" else 0.0
            part.drawOn(self.canv, x, top)
            top -= part.getSpaceAfter()


class Columns(Flowable):
    """Two stacks side by side, top-aligned: the page's header and address blocks."""

    def __init__(self, left: Stack, right: Stack, left_share: float) -> None:
        super().__init__()
        self.left, self.right, self.left_share = left, right, left_share

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803
        self.split_x = aW * self.left_share
        _, left = self.left.wrapOn(self.canv, self.split_x - 12.0, aH)
        _, right = self.right.wrapOn(self.canv, aW - self.split_x, aH)
        self.width, self.height = aW, max(left, right)
        return aW, self.height

    def draw(self) -> None:
        self.left.drawOn(self.canv, 0, self.height - self.left.height)
        self.right.drawOn(self.canv, self.split_x, self.height - self.right.height)


class Logo(Flowable):
    """The tenant's logo, scaled to fit its box, aspect kept."""

    def __init__(self, png: bytes, max_width: float, max_height: float) -> None:
        super().__init__()
        self.image = _image(png)
        width, height = self.image.getSize()
        scale = min(max_width / width, max_height / height)
        self.width, self.height = width * scale, height * scale
        self.spaceAfter = 8.0

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.image, 0, 0, self.width, self.height, mask="auto")


@lru_cache(maxsize=32)
def _image(png: bytes) -> ImageReader:
    """Decoded once per logo: a tenant renders many documents with the same one."""
    return ImageReader(BytesIO(png))


MAX_LOGO_PIXELS = 4_000_000


def check_logo(png: bytes) -> None:
    """Raise ValueError unless the image can be drawn as a logo: a PNG reportlab reads,
    of a sensible size."""
    try:
        width, height = ImageReader(BytesIO(png)).getSize()
    except Exception as exc:  # whatever the image library raises for a broken file
        raise ValueError("the logo is not an image that can be read") from exc
    if not (width > 0 and height > 0 and width * height <= MAX_LOGO_PIXELS):
        raise ValueError(f"the logo must have between 1 and {MAX_LOGO_PIXELS} pixels")
