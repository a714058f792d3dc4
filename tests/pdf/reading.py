"""Reading rendered PDFs back the way an auditor's tools do: pypdf's text extraction."""

from __future__ import annotations

import re
from io import BytesIO

from pypdf import PdfReader


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return "\n".join(pages(pdf))


def flat(value: str) -> str:
    """Runs of spaces and line breaks as one space: for text that wraps."""
    return re.sub(r"[ \n]+", " ", value)
