"""A month of one tenant's history, made by the domain and written by the projection.

Each invoice is drafted and finalized by the `Invoice` aggregate with lines the tax engine
decided; some are then credited (`compute_credit`, `CreditNote`) or voided. The aggregate
after each Finalized, Issued or Voided event goes to `TaxReports.statements`, exactly as
the projection runner hands it over, and the statements it returns are applied in bulk by
`StatementBatch`, with the effect of running them one by one. Events the projection
writes nothing for (Drafted, CreditApplied) are not handed over.

Runs in worker processes: `start_worker` is the pool's initializer, `write_chunk` a task.
"""

from __future__ import annotations

import random
import re
import signal
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from ledger.commands.invoice_taxation import line_input
from ledger.domain.credit_note import CreditNote, CreditRequest, compute_credit
from ledger.domain.invoice import Invoice
from ledger.money import round_money
from ledger.persistence import DatabaseLocation
from ledger.tax import Buyer, SupplyLine, packaged_rates
from ledger.taxation import SalesToDate, TaxedLines, buyer_of, seller_of, supply_of, tax_lines
from projections.tax_reports import TaxReports, TaxReportsView
from projections.view import Statement
from tests.benchmarks.report_data import YEAR, Chunk, Client, Company, Fate, Item, exchange_rate

_QUANTITIES = (1, 1, 1, 1, 2, 2, 3, 5, 10)
_INSERT = re.compile(
    r"INSERT INTO (?P<table>\w+)(?: AS (?P<alias>\w+))? \((?P<columns>[^)]*)\) VALUES \([^)]*\)"
    r" ON CONFLICT(?: \((?P<key>[^)]*)\))? DO (?:NOTHING|UPDATE SET (?P<set>.*))"
)


@dataclass(frozen=True)
class Written:
    invoices: int
    credit_notes: int
    voids: int
    document_rows: int


class StatementBatch:
    """The projection's statements for many events, applied with the effect of executing
    them in order: rows of `INSERT ... ON CONFLICT DO NOTHING` are copied (into a fresh
    table, where a duplicate fails loudly instead of vanishing), and an accumulating
    upsert (`ON CONFLICT (key) DO UPDATE SET c = t.c + EXCLUDED.c, ...`) is summed per
    key first and then executed once per key, in key order."""

    def __init__(self) -> None:
        self.copies: dict[str, list[Sequence[Any]]] = {}
        self.sums: dict[str, dict[tuple[Any, ...], list[Any]]] = {}
        self._shapes: dict[str, tuple[str, list[str], list[int], list[int]]] = {}

    def add(self, statements: list[Statement]) -> None:
        for statement, params in statements:
            assert isinstance(statement, str)
            assert isinstance(params, Sequence)
            _, _, key, summed = self._shape(statement)
            if not key:
                self.copies.setdefault(statement, []).append(params)
                continue
            sums = self.sums.setdefault(statement, {})
            row = sums.setdefault(tuple(params[i] for i in key), [0] * len(summed))
            for n, i in enumerate(summed):
                row[n] += params[i]

    def write(self, curs: Cursor[Any]) -> int:
        """Apply everything; return how many rows were copied."""
        copied = 0
        for statement, rows in self.copies.items():
            table, columns, _, _ = self._shape(statement)
            with curs.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            copied += len(rows)
        for statement, sums in self.sums.items():
            _, columns, key, summed = self._shape(statement)
            params = []
            for key_values, amounts in sorted(sums.items()):
                values: list[Any] = [None] * len(columns)
                for i, value in zip(key, key_values, strict=True):
                    values[i] = value
                for i, value in zip(summed, amounts, strict=True):
                    values[i] = value
                params.append(values)
            curs.executemany(statement, params)
        return copied

    def _shape(self, statement: str) -> tuple[str, list[str], list[int], list[int]]:
        """Table, columns, the conflict key's and the summed columns' parameter positions."""
        if statement not in self._shapes:
            match = _INSERT.fullmatch(statement)
            if match is None:
                raise ValueError(f"not a statement this batch can apply in bulk: {statement}")
            columns = [c.strip() for c in match["columns"].split(",")]
            key = [columns.index(c.strip()) for c in (match["key"] or "").split(",") if c]
            summed = [i for i in range(len(columns)) if i not in key]
            if key:
                alias = match["alias"] or match["table"]
                wanted = {
                    f"{columns[i]} = {alias}.{columns[i]} + EXCLUDED.{columns[i]}" for i in summed
                }
                if {s.strip() for s in match["set"].split(",")} != wanted:
                    raise ValueError(f"an upsert that does not only add up: {statement}")
            self._shapes[statement] = (match["table"], columns, key, summed)
        return self._shapes[statement]


class History:
    """Makes one tenant's documents with the domain and asks the projection for their rows."""

    def __init__(self, company: Company, projection: TaxReports) -> None:
        self.company = company
        self.projection = projection
        self.rng = random.Random()  # reseeded per month, so a month is the same in any worker
        profile = company.profile
        self.currency = profile["currency"]
        self.seller = seller_of(profile, SalesToDate())
        self.shares = [s.share for s in company.spec.segments]
        self._buyers: dict[Any, Buyer] = {}
        # The engine's decision depends on the seller, the buyer's tax facts, each line's
        # kind, class and requested rate (`supply_of`), and on the supply date only through
        # the rates it looks up: it holds from one rate change to the next. So it is asked
        # once per such combination (and again on every 50th reuse, to check that), and its
        # answer is written onto later lines as tax_lines writes it.
        periods = packaged_rates().periods()
        self._rate_changes = sorted(
            {p.valid_from for p in periods}
            | {p.valid_to + timedelta(days=1) for p in periods if p.valid_to}
        )
        self._decisions: dict[tuple[Buyer, tuple[SupplyLine, ...], int], TaxedLines] = {}
        self._reused = 0

    def invoice(self, index: int, day: int, fate: Fate | None, position: int) -> list[Statement]:
        segment = self.rng.choices(range(len(self.shares)), self.shares)[0]
        client = self.rng.choice(self.company.clients[segment])
        basket = self.company.spec.segments[segment].baskets[self.rng.choice(client.baskets)]
        issued = date.fromordinal(day)
        lines = [self._line(item) for item in basket]
        invoice = Invoice(
            tenant_id=self.company.tenant_id,
            customer_id=client.id,
            currency=client.currency,
            lines=lines,
            supply_date=None,
            due_days=None,
            memo=None,
        )
        priced = [
            {**line_input(line), "id": line["id"], "net_amount": line["net_amount"]}
            for line in invoice.priced_lines()
        ]
        taxed = self._decide(client, priced, issued)
        invoice.finalize(
            number=f"{self.company.profile['invoice_prefix']}-{YEAR}-{index + 1:06d}",
            issue_date=issued,
            due_date=issued + timedelta(days=self.company.profile["payment_terms_days"]),
            seller=self.company.seller,
            buyer=client.snapshot,
            taxed_lines=taxed.lines,
            notes=taxed.notes,
            exchange_rate=exchange_rate(self.currency, client.currency, issued),
            accounting_currency=self.currency,
            advisories=taxed.advisories,
        )
        statements = self._project(invoice, position + 1)
        if fate is not None and fate.kind == "void":
            # Voided on its day: the event's timestamp is what dates the void's rows.
            at = datetime.combine(date.fromordinal(fate.day), time(15), UTC)
            voided = Invoice.Voided  # type: ignore[attr-defined]  # made by @event("Voided")
            invoice.trigger_event(voided, reason="issued twice", timestamp=at)
            statements += self._project(invoice, position + 3)
        elif fate is not None:
            statements += self._project(self._credit(invoice, fate), position + 2)
        return statements

    def _line(self, item: Item) -> dict[str, Any]:
        """A line as drafted: the client's fields and an id; prices spread log-uniformly."""
        price = item.low * (item.high / item.low) ** self.rng.random()
        quantity = 1 if item.high > 10_000 else self.rng.choice(_QUANTITIES)
        return {
            "id": UUID(int=self.rng.getrandbits(128), version=4),
            "description": item.description,
            "quantity": Decimal(quantity),
            "unit_price": Decimal(f"{price:.2f}"),
            "kind": item.kind,
            "tax_class": item.tax_class,
            "product_code": None,
        }

    def _decide(self, client: Client, lines: list[dict[str, Any]], on: date) -> TaxedLines:
        buyer = self._buyers.get(client.id)
        if buyer is None:
            buyer = self._buyers[client.id] = buyer_of(client.profile)
        locale = client.profile.get("locale") or self.company.profile.get("locale") or "en"
        key = (
            buyer,
            tuple(supply_of(line) for line in lines),
            bisect_right(self._rate_changes, on),
        )
        known = self._decisions.get(key)
        if known is None:
            known = self._decisions[key] = tax_lines(self.seller, buyer, lines, on, locale)
            return known
        decided = TaxedLines(
            [
                {**line, **{k: v for k, v in done.items() if k not in line}}
                for line, done in zip(lines, known.lines, strict=True)
            ],
            known.notes,
            known.advisories,
            known.tax_ids_shown,
        )
        self._reused += 1
        if self._reused % 50 == 0:
            fresh = tax_lines(self.seller, buyer, lines, on, locale)
            if fresh != decided:
                raise AssertionError(f"a reused tax decision differs from the engine's on {on}")
        return decided

    def _credit(self, invoice: Invoice, fate: Fate) -> CreditNote:
        first = invoice.lines[0]
        half = round_money(first["net_amount"] / 2, invoice.currency)
        requests = None if fate.kind == "credit_full" else [CreditRequest(first["id"], amount=half)]
        credit = compute_credit(
            invoice.priced_lines(),
            invoice.credited_lines,
            invoice.credited_groups,
            invoice.currency,
            requests,
        )
        on = date.fromordinal(fate.day)
        assert invoice.number is not None
        assert invoice.issue_date is not None
        note = CreditNote(
            tenant_id=invoice.tenant_id,
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            number=fate.number,
            invoice_number=invoice.number,
            invoice_issue_date=invoice.issue_date,
            issue_date=on,
            currency=invoice.currency,
            reason="goods returned",
            outcome="reduce_due",
            lines=credit.lines,
            tax_breakdown=credit.tax_breakdown,
            subtotal=credit.subtotal,
            tax_total=credit.tax_total,
            total=credit.total,
            seller=invoice.seller or {},
            buyer=invoice.buyer or {},
            notes=invoice.notes,
            exchange_rate=invoice.exchange_rate,
            accounting_currency=invoice.accounting_currency,
        )
        invoice.apply_credit(
            note.id, fate.number, on, "reduce_due", credit.lines, credit.tax_breakdown, credit.total
        )
        return note

    def _project(self, aggregate: Aggregate, position: int) -> list[Statement]:
        """The rows for the aggregate's latest event, given the state after it."""
        latest = aggregate.collect_events()[-1]
        return self.projection.statements(aggregate, latest, position)


_worker: dict[str, Any] = {}


def start_worker(companies: tuple[Company, ...], db: DatabaseLocation) -> None:
    """Pool initializer: the tenants, and a TaxReports projection over its own view. Ctrl-C
    is left to the main process, which stops the pool and drops the database."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    datastore = PostgresDatastore(db.dbname, db.host, db.port, db.user, db.password)
    view = TaxReportsView(datastore=datastore, tracking_table_name="tax_reports_tracking")
    # The states are handed in, so the projection never loads an aggregate.
    _worker.update(companies=companies, view=view, projection=TaxReports(view, None))  # type: ignore[arg-type]


def write_chunk(chunk: Chunk, first_position: int, tenants: int, seed: int) -> Written:
    """Make and write one month of one tenant's documents; positions interleave tenants."""
    histories: dict[int, History] = _worker.setdefault("histories", {})
    if chunk.company not in histories:  # one per tenant and worker: it keeps its decisions
        company = _worker["companies"][chunk.company]
        histories[chunk.company] = History(company, _worker["projection"])
    history = histories[chunk.company]
    history.rng.seed(f"{seed}/{chunk.company}/{chunk.month}")
    batch = StatementBatch()
    for n, day in enumerate(chunk.days):
        index = chunk.first + n
        position = first_position + 4 * (chunk.company + tenants * index)
        batch.add(history.invoice(index, day, chunk.fates.get(index), position))
    view: TaxReportsView = _worker["view"]
    with view.datastore.transaction(commit=True) as curs:
        copied = batch.write(curs)
    voids = sum(fate.kind == "void" for fate in chunk.fates.values())
    return Written(len(chunk.days), len(chunk.fates) - voids, voids, copied)
