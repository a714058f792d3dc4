"""Finalized invoices per second through HTTP, all in one tenant, then a correctness check.

One invoice is `POST /v1/invoices` with three lines, then `POST /v1/invoices/{id}/finalize`.
All clients use the same tenant, so every finalization takes the next number of the same
gapless sequence. Afterwards the numbers issued must be distinct and contiguous
(PREFIX-YEAR-000001..N), both in the responses and in the invoice list.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.benchmarks.client import Connection
from tests.benchmarks.load import (
    PhaseResult,
    Recorder,
    Unit,
    close_connections,
    open_connections,
    run_phase,
)
from tests.benchmarks.server import HOST, Uvicorn
from tests.tenant_profile import TENANT as SHARED_TENANT

TENANT = {**SHARED_TENANT, "legal_name": "Bench GmbH"}
LINES = [
    {"description": "Consulting", "quantity": "8", "unit_price": "120.00", "tax_rate": "19"},
    {"description": "Travel", "quantity": "1", "unit_price": "89.90", "tax_rate": "19"},
    {"description": "Licence", "quantity": "3", "unit_price": "49.99", "tax_rate": "19"},
]
_NUMBER = re.compile(r"^(?P<series>[A-Z0-9]+-\d{4})-(?P<seq>\d{6,})$")


def admin_token() -> str:
    return "bench-" + secrets.token_urlsafe(16)


@dataclass
class Issued:
    """What the clients saw: invoice id -> number, and drafts whose finalization failed."""

    numbers: dict[str, str] = field(default_factory=dict)
    unfinalized: list[str] = field(default_factory=list)


@dataclass
class Verification:
    ok: bool
    lines: list[str]


@dataclass
class InvoiceRun:
    warmup: PhaseResult
    measured: PhaseResult
    verification: Verification


async def _expect(connection: Connection, method: str, path: str, body: Any, status: int) -> Any:
    response = await connection.request(method, path, orjson.dumps(body))
    if response.status != status:
        raise RuntimeError(f"{method} {path}: {response.status} {response.body[:500]!r}")
    return orjson.loads(response.body)


async def create_tenant(port: int, token: str, customers: int) -> tuple[str, list[str]]:
    """A new tenant's owner key, and ids of `customers` customers of it."""
    admin = Connection(HOST, port, {"Authorization": f"Bearer {token}"})
    try:
        body = await _expect(admin, "POST", "/v1/tenants", TENANT, 201)
    finally:
        await admin.close()
    key: str = body["api_key"]["key"]
    owner = Connection(HOST, port, {"Authorization": f"Bearer {key}"})
    try:
        ids = [
            (
                await _expect(
                    owner,
                    "POST",
                    "/v1/customers",
                    {"name": f"Kunde {i} AG", "country": "DE", "kind": "business"},
                    201,
                )
            )["id"]
            for i in range(customers)
        ]
    finally:
        await owner.close()
    return key, ids


def invoice_unit(customer_ids: list[str], issued: Issued) -> Unit:
    drafts = [orjson.dumps({"customer_id": c, "lines": LINES}) for c in customer_ids]

    async def unit(index: int, connection: Connection, recorder: Recorder) -> bool:
        draft = await recorder.timed(
            "draft", connection.request("POST", "/v1/invoices", drafts[index]), 201
        )
        if draft is None:
            return False
        invoice_id: str = orjson.loads(draft.body)["id"]
        final = await recorder.timed(
            "finalize",
            connection.request("POST", f"/v1/invoices/{invoice_id}/finalize", b"{}"),
            200,
        )
        if final is None:
            issued.unfinalized.append(invoice_id)
            return False
        issued.numbers[invoice_id] = orjson.loads(final.body)["number"]
        return True

    return unit


async def preflight(unit: Unit, connection: Connection, server: Uvicorn) -> None:
    """One invoice before the load, so a request the API refuses stops the benchmark at once.

    Connection errors are retried for a while: with several workers, /health answering
    means one worker is up, not all of them.
    """
    deadline = time.monotonic() + 30
    while True:
        recorder = Recorder()
        if await unit(0, connection, recorder):
            return
        no_answer = recorder.exceptions == recorder.error_count
        if not no_answer or time.monotonic() > deadline:
            raise RuntimeError(
                "the first invoice failed:\n"
                + "\n".join(recorder.error_samples)
                + f"\nserver log:\n{server.log_tail()}"
            )
        await connection.close()
        await asyncio.sleep(0.5)


def contiguity_errors(numbers: list[str]) -> tuple[list[str], dict[str, int]]:
    """Problems with `numbers` as gapless series, and each series' length."""
    problems: list[str] = []
    series: dict[str, list[int]] = {}
    for number in numbers:
        match = _NUMBER.match(number or "")
        if match is None:
            problems.append(f"malformed number {number!r}")
            continue
        series.setdefault(match["series"], []).append(int(match["seq"]))
    for name, seqs in series.items():
        seqs.sort()
        if len(set(seqs)) != len(seqs):
            problems.append(f"{name}: {len(seqs) - len(set(seqs))} numbers issued twice")
        if seqs != list(range(1, len(seqs) + 1)):
            missing = sorted(set(range(1, seqs[-1] + 1)) - set(seqs))
            problems.append(f"{name}: not 1..{len(seqs)}; missing e.g. {missing[:5]}")
    return problems, {name: len(seqs) for name, seqs in series.items()}


async def list_invoices(connection: Connection, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Every invoice of the tenant from `GET /v1/invoices` (waits out a lagging projection)."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    deadline = time.monotonic() + timeout
    while True:
        path = "/v1/invoices?limit=200" + (f"&cursor={cursor}" if cursor else "")
        response = await connection.request("GET", path)
        if response.status == 503 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # the projection is still catching up
            continue
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {response.body[:300]!r}")
        page = orjson.loads(response.body)
        rows.extend(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            return rows


async def verify(port: int, key: str, issued: Issued) -> Verification:
    lines: list[str] = []
    numbers = list(issued.numbers.values())
    problems, series = contiguity_errors(numbers)
    described = ", ".join(f"{name}-000001..{n:06d}" for name, n in sorted(series.items()))
    if len(set(numbers)) != len(numbers):
        problems.append("two invoices got the same number")
    lines.append(
        f"responses: {len(numbers)} finalized invoices numbered {described or '(none)'}: "
        + ("distinct and contiguous" if not problems else "; ".join(problems))
    )
    connection = Connection(HOST, port, {"Authorization": f"Bearer {key}"})
    try:
        rows = await list_invoices(connection)
    finally:
        await connection.close()
    listed = {row["id"]: row for row in rows}
    numbered = [row["number"] for row in rows if row["number"] is not None]
    list_problems, list_series = contiguity_errors(numbered)
    mismatched = [
        invoice_id
        for invoice_id, number in issued.numbers.items()
        if invoice_id not in listed
        or listed[invoice_id]["number"] != number
        or listed[invoice_id]["status"] != "open"
    ]
    if mismatched:
        list_problems.append(f"{len(mismatched)} finalized invoices listed otherwise")
    if len(numbered) != len(numbers):
        list_problems.append(f"{len(numbered)} numbered in the list, {len(numbers)} in responses")
    drafts = sum(1 for row in rows if row["status"] == "draft")
    listed_series = ", ".join(f"{name}: {n}" for name, n in sorted(list_series.items()))
    lines.append(
        f"GET /v1/invoices: {len(rows)} invoices ({len(numbered)} numbered [{listed_series}], "
        f"{drafts} drafts): "
        + ("agrees with the responses" if not list_problems else "; ".join(list_problems))
    )
    problems.extend(list_problems)
    if issued.unfinalized:
        lines.append(f"{len(issued.unfinalized)} drafts failed to finalize (see errors)")
    if not numbers:
        problems.append("no invoice was finalized")
    return Verification(ok=not problems, lines=lines)


async def run(
    server: Uvicorn,
    token: str,
    clients: int,
    warmup_seconds: float,
    duration: float | None,
    count: int | None,
    label: str,
    on_measure: Callable[[], None] = lambda: None,
    after_measure: Callable[[], None] = lambda: None,
) -> InvoiceRun:
    key, customer_ids = await create_tenant(server.port, token, clients)
    issued = Issued()
    unit = invoice_unit(customer_ids, issued)
    connections = await open_connections(
        HOST, server.port, clients, {"Authorization": f"Bearer {key}"}
    )
    try:
        await preflight(unit, connections[0], server)
        warmup = await run_phase(
            f"{label} warm-up",
            connections,
            unit,
            server,
            duration=warmup_seconds,
            unit_name="invoices",
        )
        on_measure()
        try:
            measured = await run_phase(
                label,
                connections,
                unit,
                server,
                duration=duration,
                count=count,
                unit_name="invoices",
            )
        finally:
            after_measure()
    finally:
        await close_connections(connections)
    verification = await verify(server.port, key, issued)
    return InvoiceRun(warmup, measured, verification)
