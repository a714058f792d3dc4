"""The embedded typeface: Source Sans Pro (SIL OFL), shipped by the font-source-sans-pro package.

Registered once per process, on first use. It covers Latin accents, Polish and Czech letters,
the rupee sign and the narrow no-break space that French puts between thousands.

Embedding a TrueType subset costs more than laying out a short invoice: building the subset,
compressing it, and writing its widths and character map. All of these depend only on which
characters the document uses, so they are remembered across documents. The bytes written are
exactly those reportlab writes without the memory (a test renders both ways and compares).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import as_file, files

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import (
    DummyDoc,
    PDFArray,
    PDFDictionary,
    PDFDocument,
    PDFObject,
    PDFStream,
    PDFTrueTypeFont,
)
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

FONT_PACKAGE = "font_source_sans_pro"
REGULAR = "LedgerSans"
BOLD = "LedgerSans-Bold"
FILES = {REGULAR: "SourceSansPro-Regular.ttf", BOLD: "SourceSansPro-Bold.ttf"}
REMEMBERED = 256  # subsets per face: a tenant's documents use a few character sets


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str


class _RememberingFace(TTFontFace):
    """A face that builds each distinct subset once."""

    @lru_cache(maxsize=REMEMBERED)  # noqa: B019 -- faces live as long as the process
    def _subset(self, codes: tuple[int, ...]) -> bytes:
        made: bytes = super().makeSubset(list(codes))
        return made

    def makeSubset(self, subset: Sequence[int]) -> bytes:  # noqa: N802 -- reportlab's name
        return self._subset(tuple(subset))


class _RememberingFont(TTFont):
    """A font whose per-document PDF objects reuse the widths and compressed streams that
    earlier documents with the same subset produced."""

    face: _RememberingFace

    def addObjects(self, doc: PDFDocument) -> None:  # noqa: N802 -- reportlab's name
        state = self.state.get(doc)
        subsets = [tuple(subset) for subset in state.subsets] if state is not None else []
        names = [self.getSubsetInternalName(n, doc)[1:] for n in range(len(subsets))]
        super().addObjects(doc)
        registry = doc.idToObject["BasicFonts"]
        assert isinstance(registry, PDFDictionary)
        for name, subset in zip(names, subsets, strict=True):
            pdf_font = registry.dict.get(name)
            if not isinstance(pdf_font, PDFTrueTypeFont):
                continue
            fields = vars(pdf_font)  # the stubs do not declare a font's PDF keys
            fields["Widths"] = _widths(self.face, subset)
            base = fields["BaseFont"]
            for key in (f"toUnicodeCMap:{base}", f"fontFile:{self.face.filename}({base})"):
                stream = doc.idToObject.get(key)
                if isinstance(stream, PDFStream) and stream.filters:
                    stream.filters = [_FLATE]


class _Formatted(PDFObject):
    """A PDF value formatted once."""

    def __init__(self, formatted: bytes) -> None:
        self.formatted = formatted

    def format(self, document: object) -> bytes:
        return self.formatted


@lru_cache(maxsize=2 * REMEMBERED)
def _widths(face: _RememberingFace, subset: tuple[int, ...]) -> _Formatted:
    widths = [face.charWidths.get(code, face.defaultWidth) for code in subset]
    formatted: bytes = PDFArray(widths).format(DummyDoc())
    return _Formatted(formatted)


class _RememberingFlate:
    """reportlab's FlateDecode filter (same zlib call), remembering what it compressed."""

    pdfname = "FlateDecode"

    @staticmethod
    @lru_cache(maxsize=4 * REMEMBERED)
    def encode(data: bytes | str) -> bytes:
        return zlib.compress(data.encode("utf8") if isinstance(data, str) else data)


_FLATE = _RememberingFlate()
_registering = threading.Lock()


def _font(name: str) -> TTFont:
    with as_file(files(FONT_PACKAGE) / "files" / FILES[name]) as path:
        font = _RememberingFont(name, str(path))
        font.face = _RememberingFace(str(path))  # reads the whole file: the path may go
    return font


@cache
def fonts() -> Fonts:
    """Register the regular and bold faces with reportlab (once) and return their names."""
    with _registering:
        if REGULAR not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(_font(REGULAR))
            pdfmetrics.registerFont(_font(BOLD))
            for italic in (0, 1):
                addMapping(REGULAR, 0, italic, REGULAR)
                addMapping(REGULAR, 1, italic, BOLD)
    return Fonts(REGULAR, BOLD)
