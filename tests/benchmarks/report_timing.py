"""Timing the tax reports as the API builds them, next to a bare scan of the same rows, and
EXPLAIN ANALYZE of the statements a report runs (rows and buffers do not depend on load)."""

from __future__ import annotations

import copy
import inspect
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from api.routes import reports as reports_route
from api.routes.common import json_object
from projections import tax_report_queries as queries
from projections.tax_reports import TaxReportsView
from tests.benchmarks.load import percentile

Build = Callable[[TaxReportsView, UUID, date, date], dict[str, Any]]

# Each report as the API builds it (tax_report_queries), and the cheapest query over the
# rows it reads: a count and sums of the same rows, through the same pool.
_DAILY_SCAN = (
    "SELECT count(*), sum(taxable_amount), sum(tax_amount) FROM tax_daily"
    " WHERE tenant_id = %s AND day BETWEEN %s AND %s"
)
_DOCUMENT_SCAN = (
    "SELECT count(*), sum(taxable_amount) FROM tax_documents"
    " WHERE tenant_id = %s AND issue_date BETWEEN %s AND %s"
)
REPORTS: dict[str, tuple[Build, str]] = {
    "vat": (queries.vat_report, _DAILY_SCAN),
    "oss": (queries.oss_report, _DAILY_SCAN),
    "ec-sales-list": (
        queries.ec_sales_list_report,
        _DOCUMENT_SCAN + " AND tax_category IN ('K', 'AE')",
    ),
    "gst": (queries.gst_report, _DOCUMENT_SCAN),
}


@dataclass(frozen=True)
class Case:
    report: str
    tenant: str  # a label: "DE", "IN"
    tenant_id: UUID
    period: str  # a label: "2025", "2025-Q4"
    start: date
    end: date


@dataclass
class Timing:
    report: list[float]  # seconds per call, wall clock
    baseline: list[float]
    cpu: list[float]  # this process's CPU seconds per report call
    http: list[float]
    rows_scanned: int  # what the baseline counted
    output_rows: int  # rows (or listed documents) in the report
    same_as_route: bool = False  # the HTTP route answered the same report

    @staticmethod
    def ms(values: list[float], q: float) -> float:
        if q == 50:
            return statistics.median(values) * 1000 if values else float("nan")
        return percentile(values, q) * 1000


def measure(
    view: TaxReportsView,
    case: Case,
    reps: int,
    budget: float,
    http: Callable[[], dict[str, Any]],
    http_reps: int,
) -> Timing:
    """Warm up, then alternate report and baseline `reps` times, or fewer (at least 3) once
    `budget` seconds are spent; then the HTTP route: a first call, whose answer must equal
    the report function's, then timed calls likewise (the first one alone when it is slow)."""
    build, scan = REPORTS[case.report]
    args = (case.tenant_id, case.start, case.end)

    def report() -> dict[str, Any]:
        return build(view, *args)

    def baseline() -> tuple[Any, ...]:
        with view.datastore.transaction(commit=False) as curs:
            curs.execute(scan, args)
            row = curs.fetchone()
        assert row is not None
        return tuple(row.values())

    t0 = time.perf_counter()
    result, counted = report(), baseline()
    if time.perf_counter() - t0 < 1.0:  # a second warm-up, when it is cheap
        report(), baseline()
    timing = Timing([], [], [], [], int(counted[0]), _size(result))
    started = time.perf_counter()
    for n in range(reps):
        for which in ("baseline", "report") if n % 2 else ("report", "baseline"):
            t0, c0 = time.perf_counter(), time.process_time()
            if which == "report":
                report()
                timing.cpu.append(time.process_time() - c0)
                timing.report.append(time.perf_counter() - t0)
            else:
                baseline()
                timing.baseline.append(time.perf_counter() - t0)
        if n >= 2 and time.perf_counter() - started > budget:
            break
    _through_http(http, case, result, timing, http_reps, budget)
    return timing


def _through_http(
    http: Callable[[], dict[str, Any]],
    case: Case,
    result: dict[str, Any],
    timing: Timing,
    reps: int,
    budget: float,
) -> None:
    t0 = time.perf_counter()
    answered = http()
    first = time.perf_counter() - t0
    expected: dict[str, Any] = {"from": case.start.isoformat(), "to": case.end.isoformat()}
    expected |= {"currency": answered.get("currency"), **json_object(result)}
    timing.same_as_route = answered == expected
    if first > budget / 2:  # too slow to repeat: the checked call is the sample
        timing.http.append(first)
        return
    started = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        http()
        timing.http.append(time.perf_counter() - t0)
        if time.perf_counter() - started > budget:
            break


def _size(report: dict[str, Any]) -> int:
    return sum(len(v) for v in report.values() if isinstance(v, list))


class _RecordingCursor:
    def __init__(self, cursor: Any, statements: list[tuple[Any, Any]]) -> None:
        self._cursor = cursor
        self._statements = statements

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self._statements.append((query, params))
        return self._cursor.execute(query, params, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _RecordingDatastore:
    """Stands in for a view's datastore to keep the statements a report runs."""

    def __init__(self, datastore: Any) -> None:
        self._datastore = datastore
        self.statements: list[tuple[Any, Any]] = []

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[_RecordingCursor]:
        with self._datastore.transaction(commit=commit) as curs:
            yield _RecordingCursor(curs, self.statements)


def explain(view: TaxReportsView, case: Case, conninfo: str) -> list[str]:
    """One line per statement the report runs: its plan's nodes with actual rows, the 8 kB
    buffers it touched and the server's execution time."""
    spy = copy.copy(view)
    recording = _RecordingDatastore(view.datastore)
    spy.datastore = recording  # type: ignore[assignment]
    REPORTS[case.report][0](spy, case.tenant_id, case.start, case.end)
    lines = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for query, params in recording.statements:
            statement = sql.SQL(query) if isinstance(query, str) else query
            row = conn.execute(
                sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + statement, params
            ).fetchone()
            assert row is not None
            plan = row[0][0]
            top = plan["Plan"]
            buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            lines.append(
                f"{' > '.join(reversed(list(_nodes(top))))}; {buffers:,} buffers,"
                f" {plan['Execution Time']:.1f} ms in the server"
            )
    return lines


def _nodes(node: dict[str, Any]) -> Iterator[str]:
    name = node["Node Type"]
    if "Index Name" in node:
        name += f" {node['Index Name']}"
    elif "Relation Name" in node:
        name += f" {node['Relation Name']}"
    rows = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
    detail = f"{rows:,.0f} rows"
    if "Heap Fetches" in node:
        detail += f", {node['Heap Fetches']:,} heap fetches"
    yield f"{name} ({detail})"
    for child in node.get("Plans", []):
        yield from _nodes(child)


def routed(report: str) -> bool:
    """Whether api/routes/reports.py builds the report with the function timed here (if not,
    its HTTP figures are those of its own calls)."""
    return f"queries.{REPORTS[report][0].__name__}(" in inspect.getsource(reports_route)


def invoices_in(conninfo: str, case: Case) -> int:
    """How many invoices the case's period holds (each has a row with seq 0)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM tax_documents WHERE tenant_id = %s AND issue_date BETWEEN"
            " %s AND %s AND document_kind = 'invoice' AND seq = 0",
            (case.tenant_id, case.start, case.end),
        ).fetchall()
    return int(rows[0][0])


Result = tuple[Case, int, Timing, list[str]]


def _line(case: Case, invoices: int, t: Timing, target: float) -> tuple[str, bool]:
    report, http = t.ms(t.report, 50), t.ms(t.http, 50)
    met = report < target and http < target
    verdict = "met" if met else f"NOT met ({max(report, http) / target:.1f}x)"
    return (
        f"{case.report + ' ' + case.tenant:<17}{case.period:<8}{invoices:>9,}{t.rows_scanned:>10,}"
        f"{t.output_rows:>8,}{report:>9.1f}{t.ms(t.report, 95):>7.1f}{t.ms(t.cpu, 50):>7.1f}"
        f"{t.ms(t.baseline, 50):>9.1f}{t.ms(t.baseline, 95):>7.1f}{http:>9.1f}"
        f"{t.ms(t.http, 95):>7.1f}{'yes' if t.same_as_route else 'NO':>5}  {verdict}",
        met,
    )


def print_results(
    results: list[Result], busy: float, own: float, args: Any, target: float, year: str
) -> None:
    """The table, the conditions it was measured in, the plans and the verdict."""
    cores = os.cpu_count() or 1
    print(
        f"\n{'report':<17}{'period':<8}{'invoices':>9}{'rows':>10}{'result':>8}"
        f"{'report ms':>16}{'CPU':>7}{'baseline ms':>16}{'HTTP ms':>16}{'same':>5}"
        f"  target {target:.0f} ms\n{'':<34}{'scanned':>10}{'rows':>8}{'median':>9}"
        f"{'p95':>7}{'ms':>7}{'median':>9}{'p95':>7}{'median':>9}{'p95':>7}"
    )
    verdicts = []
    for case, invoices, timing, _ in results:
        line, met = _line(case, invoices, timing, target)
        verdicts.append((case, met))
        print(line)
    print(
        f"report: tax_report_queries.*_report, up to {args.reps} calls after warm-up,"
        " alternating with the baseline, the cheapest query over the same rows (count and"
        " sums) through the same pool; CPU: this process, per report call; HTTP: GET"
        f" /v1/reports/..., up to {args.http_reps} calls; same: the route answered the same"
    )
    uses = ", ".join(f"{r} {'yes' if routed(r) else 'NO'}" for r in REPORTS)
    print(f"api/routes/reports.py calls the timed function: {uses}")
    competing = busy - own >= 1.3  # PostgreSQL, working for us, is up to a core
    print(
        f"machine during timing: {busy:.2f} of {cores} cores busy, {own:.2f} of them this"
        " process"
        + (" -- WARNING: other work competed; timings are pessimistic" if competing else "")
    )
    print("plans (EXPLAIN ANALYZE; rows and 8 kB buffers do not depend on load):")
    for case, _, _, plans in results:
        for plan in plans:
            print(f"  {case.report} {case.tenant} {case.period}: {plan}")
    over_year = [met for case, met in verdicts if case.period == year]
    print(
        f"target: a report over {args.invoices:,} invoices (the year) answers in under"
        f" {target:.0f} ms: met by {sum(over_year)} of {len(over_year)} reports;"
        f" {sum(met for _, met in verdicts)} of {len(verdicts)} cases in all"
    )
