"""credit_note_list: one row per credit note, for listing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.domain.credit_note import CreditNote
from projections.state import StateProjection
from projections.view import Statement, View

_UPSERT = (
    "INSERT INTO credit_note_list (id, tenant_id, position, invoice_id, customer_id, number,"
    " invoice_number, status, outcome, reason, currency, issue_date, subtotal, tax_total,"
    " total, version) VALUES (%(id)s, %(tenant_id)s, %(position)s, %(invoice_id)s,"
    " %(customer_id)s, %(number)s, %(invoice_number)s, %(status)s, %(outcome)s, %(reason)s,"
    " %(currency)s, %(issue_date)s, %(subtotal)s, %(tax_total)s, %(total)s, %(version)s)"
    " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version"
)


class CreditNoteListView(View):
    """The `credit_note_list` table."""

    tables = ("credit_note_list",)

    def page(
        self, tenant_id: UUID, invoice_id: UUID | None, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT * FROM credit_note_list WHERE tenant_id = %s"
                " AND (%s::uuid IS NULL OR invoice_id = %s)"
                " AND (%s::bigint IS NULL OR position < %s)"
                " ORDER BY position DESC LIMIT %s",
                (tenant_id, invoice_id, invoice_id, before, before, limit),
            )
            return list(curs.fetchall())


class CreditNoteListing(StateProjection[CreditNoteListView]):
    """Keeps `credit_note_list` in step with every credit note."""

    name = "credit_note_list"
    aggregate_classes = (CreditNote,)
    supersedes = True

    def statements(self, state: CreditNote, domain_event: object, position: int) -> list[Statement]:
        row = {
            "id": state.id,
            "tenant_id": state.tenant_id,
            "position": position,
            "invoice_id": state.invoice_id,
            "customer_id": state.customer_id,
            "number": state.number,
            "invoice_number": state.invoice_number,
            "status": state.status,
            "outcome": state.outcome.value,
            "reason": state.reason,
            "currency": state.currency,
            "issue_date": state.issue_date,
            "subtotal": state.subtotal,
            "tax_total": state.tax_total,
            "total": state.total,
            "version": state.version,
        }
        return [(_UPSERT, row)]
