"""Long invoices: page breaks where the layout puts them, the head on every page, totals last."""

from __future__ import annotations

import math
import re

import pytest

from pdf import render_invoice
from pdf.layout import MARGIN_BOTTOM, MARGIN_TOP, PAGE_HEIGHT, ROW_HEIGHT, RUNNING_HEADER
from tests.pdf import reading, samples

LINES = 120
HEAD = "# Description Qty Unit price VAT Net"


@pytest.fixture(scope="module")
def pages() -> list[str]:
    return reading.pages(render_invoice(samples.long_invoice(LINES), "en"))


def _line_numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"Line (\d{3}): consulting", page)]


def test_a_120_line_invoice_breaks_pages_where_the_layout_says(pages: list[str]) -> None:
    # Pages after the first hold as many one-line rows as fit under the repeated head.
    later_frame = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - RUNNING_HEADER
    per_later_page = math.floor((later_frame - ROW_HEIGHT) / ROW_HEIGHT)
    on_first = len(_line_numbers(pages[0]))  # under the seller, buyer and dates blocks
    expected = 1 + math.ceil((LINES - on_first) / per_later_page)

    assert (per_later_page, on_first) == (40, 31)
    assert len(pages) == expected == 4
    assert [len(_line_numbers(page)) for page in pages] == [31, 40, 40, 9]


def test_every_line_appears_once_in_order(pages: list[str]) -> None:
    numbers = [n for page in pages for n in _line_numbers(page)]
    assert numbers == list(range(1, LINES + 1))


def test_the_table_head_repeats_on_every_page(pages: list[str]) -> None:
    assert all(HEAD in page for page in pages)


def test_every_page_says_page_x_of_y(pages: list[str]) -> None:
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_pages_after_the_first_carry_a_running_header(pages: list[str]) -> None:
    assert "continued" not in pages[0]
    for page in pages[1:]:
        assert "Invoice INV-2026-000120 · continued" in page


def test_totals_and_payment_details_are_on_the_last_page_only(pages: list[str]) -> None:
    total = sum(100 + n for n in range(1, LINES + 1))  # 19,260.00 net
    last = pages[-1]
    assert "Subtotal (net) €19,260.00" in last
    assert f"Subtotal (net) €{total:,}.00" in last
    assert "VAT total €3,659.40" in last
    assert "Total €22,919.40" in last
    assert "Amount due €22,919.40" in last
    assert "Payment details" in last
    assert not any("Amount due" in page or "VAT breakdown" in page for page in pages[:-1])


def test_a_german_long_invoice_numbers_pages_in_german() -> None:
    pages = reading.pages(render_invoice(samples.long_invoice(LINES), "de"))
    assert [f"Seite {n} von 4" in page for n, page in enumerate(pages, start=1)] == [True] * 4
