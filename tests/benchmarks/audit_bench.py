"""Verifying the hash chain and rebuilding every projection over a large store.

Fills a fresh database with N events (default 1,000,000) of real aggregates - tenants,
customers, invoices drafted, edited, finalized and paid - appended through the ledger's own
chained recorder in large saves. Then, in one run, on the same events:

- baseline: reading every event from the store and decoding it to a domain event;
- `ledger verify`: reading the store and the chain and recomputing every link;
- `ledger rebuild`: replaying every event into every projection.

Each is printed in events per second with its ratio to the baseline. Targets: verify at
least 100,000 events/s, rebuild at least 20,000 events/s.

    python -m tests.benchmarks.audit_bench [--events 1000000] [--skip-rebuild]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg

from ledger.application import Ledger
from ledger.context import CommandContext, acting_as
from ledger.domain.customer import Customer
from ledger.domain.invoice import Invoice
from ledger.domain.tenant import Tenant
from projections.chain_verify import verify
from projections.event_chain import ledger_env
from projections.runner import Projectors, rebuild
from tests.benchmarks.server import database_server, describe, fresh_database

VERIFY_TARGET = 100_000.0
REBUILD_TARGET = 20_000.0
TENANTS = 20
CUSTOMERS_PER_TENANT = 50
SAVE_EVENTS = 2_000  # events per save: few large saves, as an import would make
READ_BATCH = 10_000
CONTEXT = CommandContext(tenant_id=None, actor="bench", correlation_id="audit-bench")
PROFILE = {
    "legal_name": "Muster GmbH",
    "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "country": "DE",
    "vat_id": "DE136695976",
    "currency": "EUR",
    "invoice_prefix": "INV",
    "payment_terms_days": 14,
    "locale": "de",
    "allow_tax_rate_override": True,
}


def _line(n: int) -> dict[str, Any]:
    return {
        "description": f"Consulting, day {n}",
        "quantity": Decimal(1 + n % 5),
        "unit_price": Decimal("120.00"),
        "kind": "services",
        "requested_tax_rate": Decimal(19),
    }


class Filler:
    """Appends real aggregates' events through the ledger in saves of a few thousand."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.pending: list[Any] = []
        self.pending_events = 0
        self.written = 0
        self.started = time.perf_counter()

    def add(self, *aggregates: Any) -> None:
        self.pending += aggregates
        self.pending_events += sum(len(a.pending_events) for a in aggregates)
        if self.pending_events >= SAVE_EVENTS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.ledger.save(*self.pending)
        self.written += self.pending_events
        self.pending, self.pending_events = [], 0
        rate = self.written / max(time.perf_counter() - self.started, 1e-9)
        print(f"\rfilling: {self.written:,} events ({rate:,.0f}/s)", end="", file=sys.stderr)


def fill(ledger: Ledger, events: int) -> int:
    """Append about `events` events, spread over TENANTS tenants; return how many."""
    filler = Filler(ledger)
    day = date(2026, 1, 1)
    with acting_as(CONTEXT):
        for t in range(TENANTS):
            tenant = Tenant(profile={**PROFILE, "legal_name": f"Muster {t} GmbH"})
            customers = [
                Customer(
                    tenant_id=tenant.id,
                    profile={"name": f"Kunde {c} AG", "country": "DE", "kind": "business"},
                )
                for c in range(CUSTOMERS_PER_TENANT)
            ]
            filler.add(tenant, *customers)
            number = 0
            while filler.written + filler.pending_events < events * (t + 1) // TENANTS:
                customer = customers[number % CUSTOMERS_PER_TENANT]
                number += 1
                filler.add(_invoice(ledger, tenant, customer, number, day))
        filler.flush()
    print(file=sys.stderr)
    return filler.written


def _invoice(ledger: Ledger, tenant: Tenant, customer: Customer, number: int, day: date) -> Any:
    """Drafted, a line added, finalized, and every other one paid: four or five events."""
    lines = ledger._decided_lines(tenant, customer, [_line(number)], None)
    invoice = Invoice(
        tenant_id=tenant.id,
        customer_id=customer.id,
        currency="EUR",
        lines=[{**line, "id": uuid4()} for line in lines],
        supply_date=day,
        due_days=None,
        memo=None,
    )
    invoice.add_line({**invoice.lines[0], "id": uuid4()})
    invoice.finalize(
        number=f"INV-2026-{number:06d}",
        issue_date=day,
        due_date=day + timedelta(days=14),
        seller=tenant.seller_snapshot(),
        buyer=customer.buyer_snapshot(),
    )
    if number % 2:
        invoice.record_payment(invoice.amount_due, day, "bank_transfer", None)
    return invoice


def read_and_decode(ledger: Ledger) -> int:
    """The baseline: every event read from the store and decoded to a domain event."""
    count, start = 0, 1
    while True:
        notifications = ledger.recorder.select_notifications(start, READ_BATCH)
        if not notifications:
            return count
        for notification in notifications:
            ledger.mapper.to_domain_event(notification)
        count += len(notifications)
        start = notifications[-1].id + 1


def timed(what: str, run: Any) -> tuple[Any, float]:
    print(f"-- {what}", file=sys.stderr)
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.audit_bench")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args(argv)
    server = database_server()
    print(f"Audit benchmark: verify and rebuild over {args.events:,} events")
    print(f"database: {describe(server)}; a fresh database, dropped afterwards")
    with fresh_database(server) as db:
        ledger = Ledger(env=ledger_env(db, 4))
        try:
            written, seconds = timed("filling the store", lambda: fill(ledger, args.events))
            print(f"filled: {written:,} events in {seconds:.1f} s ({written / seconds:,.0f}/s)")
            read, base = timed("baseline: read and decode", lambda: read_and_decode(ledger))
            baseline = read / base
            print(f"baseline read + decode : {baseline:12,.0f} events/s ({read:,} in {base:.1f} s)")

            def check() -> Any:
                with psycopg.connect(db.conninfo()) as conn:
                    return verify(conn, None, lambda n: _progress("verify", n, read))

            result, took = timed("verify", check)
            rate = result.checked / took
            verdict = _verdict(rate, VERIFY_TARGET)
            print(
                f"verify                 : {rate:12,.0f} events/s ({result.checked:,} in "
                f"{took:.1f} s; chain {'intact' if result.ok else 'BROKEN'}); "
                f"ratio {rate / baseline:.2f}; target {VERIFY_TARGET:,.0f}: {verdict}"
            )
            if not args.skip_rebuild:
                projectors = Projectors(ledger, db)
                for name, projector in projectors.by_name.items():
                    replayed, took = timed(
                        f"rebuild {name}",
                        lambda p=projector, n=name: rebuild(
                            ledger, p, db, lambda done, total: _progress(n, done, total)
                        ),
                    )
                    rate = replayed / took
                    print(
                        f"rebuild {name:<15}: {rate:12,.0f} events/s ({replayed:,} in {took:.1f} "
                        f"s); ratio {rate / baseline:.2f}; target {REBUILD_TARGET:,.0f}: "
                        f"{_verdict(rate, REBUILD_TARGET)}"
                    )
        finally:
            ledger.close()
    return 0


def _progress(what: str, done: int, total: int) -> None:
    print(f"\r   {what}: {done:,}/{total:,}", end="", file=sys.stderr)


def _verdict(rate: float, target: float) -> str:
    return "met" if rate >= target else f"NOT met ({100 * rate / target:.0f}%)"


if __name__ == "__main__":
    sys.exit(main())
