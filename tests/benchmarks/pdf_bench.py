"""PDFs per second for a 10-line invoice, next to a bare reportlab document of the same table.

Both run in this process on one core, in alternating rounds so that both see the same machine;
the figures are the median round of each. Rates are PDFs per second of this process's CPU time
(what one core does, whatever else the machine runs), with wall-clock rates beside them.
Target: at least 150 invoice PDFs per CPU-second.

    python -m tests.benchmarks.pdf_bench [--rounds 7] [--round-seconds 0.6]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from reportlab.lib import rl_accel
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from pdf import from_invoice_json, render_invoice
from tests.pdf import samples

TARGET = 150.0
LOCALE = "en"


def bare_rows(invoice: dict[str, Any]) -> list[list[str]]:
    """The invoice's line table as plain strings, as the bare document shows it."""
    head = ["#", "Description", "Qty", "Unit price", "VAT", "Net"]
    return [head] + [
        [
            str(n),
            line["description"],
            line["quantity"],
            line["unit_price"],
            f"{line['tax_category']} {line['tax_rate']}%",
            line["net_amount"],
        ]
        for n, line in enumerate(invoice["lines"], start=1)
    ]


def render_bare(rows: list[list[str]]) -> bytes:
    """The least reportlab does for this table: default template, built-in font, no styling
    beyond right-aligned numbers."""
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=1)
    style = TableStyle(
        [("FONT", (0, 0), (-1, -1), "Helvetica", 9), ("ALIGN", (2, 0), (-1, -1), "RIGHT")]
    )
    doc.build([Table(rows, repeatRows=1, style=style)])
    return buffer.getvalue()


@dataclass(frozen=True)
class Round:
    cpu_rate: float
    wall_rate: float


def _round(render: Callable[[], bytes], seconds: float) -> Round:
    count, started, cpu_started = 0, time.perf_counter(), time.process_time()
    deadline = started + seconds
    while True:
        render()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            cpu = time.process_time() - cpu_started
            return Round(count / cpu, count / (now - started))


def measure(rounds: int, seconds: float) -> tuple[list[Round], list[Round]]:
    invoice = samples.ten_lines()
    document = from_invoice_json(invoice)
    rows = bare_rows(invoice)

    def ours() -> bytes:
        return render_invoice(document, LOCALE)

    def bare() -> bytes:
        return render_bare(rows)

    for render in (ours, bare):  # warm-up: fonts registered, subsets cached
        _round(render, seconds / 2)
    ours_rates: list[Round] = []
    bare_rates: list[Round] = []
    for _ in range(rounds):
        bare_rates.append(_round(bare, seconds))
        ours_rates.append(_round(ours, seconds))
    return ours_rates, bare_rates


def run(rounds: int = 7, seconds: float = 0.6) -> None:
    accelerated = "yes" if getattr(rl_accel, "_c_funcs", None) else "NO (reportlab[accel])"
    print("PDF benchmark: a 10-line invoice vs a bare reportlab document of the same table")
    print(
        f"Python {platform.python_version()}, reportlab "
        f"{importlib.metadata.version('reportlab')}, C accelerator: {accelerated}; "
        f"{rounds} alternating rounds of {seconds:.1f} s, one core"
    )
    ours_rounds, bare_rounds = measure(rounds, seconds)
    ours = statistics.median(r.cpu_rate for r in ours_rounds)
    bare = statistics.median(r.cpu_rate for r in bare_rounds)
    for name, rate, measured in (
        ("bare reportlab table", bare, bare_rounds),
        ("ledger invoice (pdf)", ours, ours_rounds),
    ):
        wall = statistics.median(r.wall_rate for r in measured)
        best = max(r.cpu_rate for r in measured)
        print(
            f"{name} : {rate:7.1f} PDFs/s of CPU (median; best {best:.1f}); wall clock {wall:.1f}/s"
        )
    print(f"ratio                : {ours / bare:.3f} (ledger / bare, CPU time)")
    verdict = "met" if ours >= TARGET else f"NOT met ({100 * ours / TARGET:.0f}% of target)"
    print(f"target >= {TARGET:.0f} PDFs/s: {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.pdf_bench")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--round-seconds", type=float, default=0.6)
    args = parser.parse_args(argv)
    run(args.rounds, args.round_seconds)


if __name__ == "__main__":
    main()
