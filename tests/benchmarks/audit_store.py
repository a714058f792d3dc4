"""A large, realistic event store for the audit benchmark, written fast.

One tenant's business is run once through the real `Ledger` commands, in memory: a
registration, customers, invoices drafted and edited, finalized, paid in full or in part,
credited, voided, written off or discarded, with the sequences, payments and accounts the
commands save alongside. Its stored events are the template. The store is then filled
with copies of that tenant, each with fresh ids (every UUID of the template, in the
columns and inside the JSON, is swapped for a new one), written by COPY together with the
hash chain that `ChainedRecorder` would have written, computed by its `link_hash`.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.application import Ledger
from ledger.context import CommandContext, acting_as
from ledger.domain.credit_note import CreditRequest
from projections.event_chain import GENESIS, NO_TENANT, link_hash, tenant_in_state
from tests.tenant_profile import TENANT

EVENTS_TABLE = "ledger_events"
PROFILE = {**TENANT, "credit_note_prefix": "CN"}
CUSTOMERS = 40
INVOICES = 600
FIRST_DAY = date(2025, 1, 2)
# A UUID as OrjsonTranscoder writes it.
_TAGGED_UUID = re.compile(rb'"_type_":"uuid","_data_":"([0-9a-f]{32})"')


def _line(n: int) -> dict[str, Any]:
    return {
        "description": f"Consulting, {('workshop', 'review', 'support', 'training')[n % 4]} {n}",
        "quantity": Decimal(1 + n % 5),
        "unit_price": Decimal(("120.00", "89.50", "1450.00", "12.99")[n % 4]),
        "tax_rate": Decimal(7 if n % 7 == 0 else 19),
    }


def run_template_business() -> Ledger:
    """One tenant's year of invoicing through the real commands, in an in-memory Ledger."""
    app = Ledger(env={})
    registration = app.register_tenant(CommandContext(None, "bench", "audit-bench"), PROFILE)
    ctx = CommandContext(registration.tenant.id, "bench", "audit-bench")
    with acting_as(ctx):
        customers = [
            app.create_customer(
                ctx,
                {
                    "name": f"Kunde {c} {'AG' if c % 3 else 'e.K.'}",
                    "country": "DE",
                    "kind": "business" if c % 4 else "consumer",
                    "email": f"billing{c}@kunde{c}.example",
                },
            ).id
            for c in range(CUSTOMERS)
        ]
        due: dict[int, list[tuple[UUID, int]]] = {}
        for n in range(INVOICES):
            day = FIRST_DAY + timedelta(days=n * 300 // INVOICES)
            for invoice_id, m in due.pop(n, []):
                _settle(app, ctx, invoice_id, m, day)
            invoice = app.draft_invoice(
                ctx, customers[n % CUSTOMERS], [_line(n + k) for k in range(1 + n % 3)]
            )
            if n % 2:
                app.add_invoice_line(ctx, invoice.id, _line(n + 7))
            if n % 10 == 3:
                app.change_invoice_line(
                    ctx, invoice.id, invoice.lines[0]["id"], {"quantity": Decimal(2 + n % 4)}
                )
            if n % 25 == 7:
                app.discard_invoice(ctx, invoice.id)
                continue
            if n % 40 == 11:
                continue  # left a draft
            app.finalize_invoice(ctx, invoice.id, day)
            due.setdefault(n + 5 + n % 9, []).append((invoice.id, n))
    return app


def _settle(app: Ledger, ctx: CommandContext, invoice_id: UUID, n: int, day: date) -> None:
    """What happens to a finalized invoice a few days later."""
    invoice = app.invoice(ctx, invoice_id)
    kind = n % 20
    if kind < 11:
        app.record_payment(ctx, invoice_id, invoice.amount_due, day, "bank_transfer", f"R{n}")
    elif kind < 14:
        half = (invoice.amount_due / 2).quantize(Decimal("0.01"))
        app.record_payment(ctx, invoice_id, half, day, "card", None)
    elif kind < 16:
        line = invoice.lines[0]
        app.issue_credit_note(
            ctx,
            invoice_id,
            "returned",
            "reduce_due",
            [CreditRequest(invoice_line_id=line["id"], quantity=Decimal(1))],
            day,
        )
    elif kind == 16:
        app.void_invoice(ctx, invoice_id, "issued in error")
    elif kind == 17:
        app.mark_uncollectible(ctx, invoice_id)
    # else: still open


@dataclass(frozen=True)
class TemplateEvent:
    """A stored event of the template with its UUIDs cut out: `parts` are the literal
    pieces of the state between them, `slots` the template UUIDs that go between."""

    originator: int  # slot of the aggregate id
    version: int
    topic: str
    parts: tuple[bytes, ...]
    slots: tuple[int, ...]
    tenant: int  # slot of the chain's tenant, -1 for none


class Template:
    """The template tenant's stored events, ready to be copied with fresh ids."""

    def __init__(self, stored: list[StoredEvent]) -> None:
        # Every UUID in the template is an id the copy renews: aggregates, lines, tenants.
        self.uuids: dict[UUID, int] = {}
        tenant_of: dict[UUID, UUID] = {}
        for event in stored:
            self._slot(_as_uuid(event.originator_id))
        for found in {m.group(1) for e in stored for m in _TAGGED_UUID.finditer(e.state)}:
            self._slot(UUID(found.decode()))
        self.events: list[TemplateEvent] = []
        for event in stored:
            originator = _as_uuid(event.originator_id)
            if event.originator_version == 1:
                tenant_of[originator] = tenant_in_state(originator, event.topic, event.state)
            tenant = tenant_of.get(originator, NO_TENANT)
            parts, slots, at = [], [], 0
            for match in _TAGGED_UUID.finditer(event.state):
                parts.append(event.state[at : match.start(1)])
                slots.append(self.uuids[UUID(match.group(1).decode())])
                at = match.end(1)
            parts.append(event.state[at:])
            self.events.append(
                TemplateEvent(
                    self.uuids[originator],
                    event.originator_version,
                    event.topic,
                    tuple(parts),
                    tuple(slots),
                    self.uuids[tenant] if tenant != NO_TENANT else -1,
                )
            )

    def _slot(self, uuid: UUID) -> None:
        self.uuids.setdefault(uuid, len(self.uuids))

    def copy(self) -> Iterator[tuple[UUID, int, str, bytes, UUID]]:
        """The template's events with fresh ids: (aggregate id, version, topic, state,
        chain tenant)."""
        ids = [uuid4() for _ in self.uuids]
        hexes = [u.hex.encode() for u in ids]
        for e in self.events:
            pieces = [e.parts[0]]
            for slot, part in zip(e.slots, e.parts[1:], strict=True):
                pieces.append(hexes[slot])
                pieces.append(part)
            tenant = ids[e.tenant] if e.tenant >= 0 else NO_TENANT
            yield ids[e.originator], e.version, e.topic, b"".join(pieces), tenant


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def template() -> Template:
    app = run_template_business()
    # Personal fields are sealed with keys of the in-memory key ring, bound to the template's
    # ids: they are stored in the clear instead, as events written before sealing were.
    clear: Mapper[UUID] = Mapper(transcoder=app.mapper.transcoder)
    try:
        stored = [
            clear.to_stored_event(app.mapper.to_domain_event(n))
            for n in app.recorder.select_notifications(1, 10_000_000)
        ]
    finally:
        app.close()
    return Template(stored)


def fill(conninfo: str, events: int, progress: Callable[[int], None]) -> int:
    """Write `events` events (the template's tenant copied as often as it takes, the last
    copy cut short) and their hash chain into an empty store; return how many."""
    model = template()
    heads: dict[UUID, tuple[int, bytes]] = {}
    position = 0
    # One COPY per connection: the events and their links go side by side.
    with psycopg.connect(conninfo) as events_conn, psycopg.connect(conninfo) as chain_conn:
        for conn in (events_conn, chain_conn):
            conn.execute("SET synchronous_commit = off")
        with (
            events_conn.cursor().copy(
                f"COPY {EVENTS_TABLE} (originator_id, originator_version, topic, state,"
                " notification_id) FROM STDIN (FORMAT BINARY)"
            ) as rows,
            chain_conn.cursor().copy(
                "COPY event_chain (position, tenant_id, originator_id, originator_version,"
                " prev_position, hash) FROM STDIN (FORMAT BINARY)"
            ) as links,
        ):
            rows.set_types(["uuid", "int8", "text", "bytea", "int8"])
            links.set_types(["int8", "uuid", "uuid", "int8", "int8", "bytea"])
            while position < events:
                for originator, version, topic, state, tenant in model.copy():
                    position += 1
                    previous_position, previous = heads.get(tenant, (None, GENESIS))
                    digest = link_hash(previous, position, originator, version, topic, state)
                    heads[tenant] = (position, digest)
                    rows.write_row((originator, version, topic, state, position))
                    links.write_row(
                        (position, tenant, originator, version, previous_position, digest)
                    )
                    if position % 20_000 == 0:
                        progress(position)
                    if position == events:
                        break
        with chain_conn.cursor().copy(
            "COPY event_chain_heads (tenant_id, position, hash) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int8", "bytea"])
            for tenant, (at, digest) in heads.items():
                copy.write_row((tenant, at, digest))
        events_conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{EVENTS_TABLE}', 'notification_id'), %s)",
            (position,),
        )
    progress(position)
    return position


def main() -> None:
    started = time.perf_counter()
    model = template()
    print(
        f"template: {len(model.events):,} events, {len(model.uuids):,} ids,"
        f" {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
