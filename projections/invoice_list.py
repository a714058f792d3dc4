"""invoice_list: one row per invoice, for listing and filtering by status, customer, dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.invoice import Invoice, Status
from projections.state import StateProjection
from projections.view import Statement, View

_COLUMNS = (
    "id tenant_id position customer_id number status currency issue_date due_date subtotal "
    "tax_total total amount_paid amount_due created_at finalized_at version"
).split()

_UPSERT = sql.SQL(
    "INSERT INTO invoice_list ({columns}) VALUES ({values}) "
    "ON CONFLICT (id) DO UPDATE SET {updates}"
).format(
    columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
    values=sql.SQL(", ").join(sql.Placeholder() for _ in _COLUMNS),
    updates=sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
        for c in _COLUMNS
        if c not in ("id", "position")
    ),
)


@dataclass(frozen=True)
class InvoiceFilter:
    status: str | None = None
    customer_id: UUID | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    overdue_on: date | None = None  # open or uncollectible, due before this date
    number_contains: str | None = None


class InvoiceListView(View):
    """The `invoice_list` table."""

    tables = ("invoice_list",)

    def page(
        self, tenant_id: UUID, where: InvoiceFilter, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        """Newest first; `before` is the position the previous page ended at."""
        clauses = [sql.SQL("tenant_id = %s")]
        params: list[Any] = [tenant_id]
        for condition, value in (
            ("status = %s", where.status),
            ("customer_id = %s", where.customer_id),
            ("issue_date >= %s", where.issued_from),
            ("issue_date <= %s", where.issued_to),
            ("position < %s", before),
        ):
            if value is not None:
                clauses.append(sql.SQL(condition))
                params.append(value)
        if where.overdue_on is not None:
            clauses.append(sql.SQL("status IN ('open', 'uncollectible') AND due_date < %s"))
            params.append(where.overdue_on)
        if where.number_contains:
            clauses.append(sql.SQL("number ILIKE %s"))
            params.append("%" + _escape_like(where.number_contains) + "%")
        query = sql.SQL(
            "SELECT * FROM invoice_list WHERE {} ORDER BY position DESC LIMIT %s"
        ).format(sql.SQL(" AND ").join(clauses))
        params.append(limit)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            return list(curs.fetchall())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class InvoiceListing(StateProjection[InvoiceListView]):
    """Keeps `invoice_list` in step with every invoice's state; discarded drafts leave it."""

    name = "invoice_list"
    aggregate_classes = (Invoice,)
    supersedes = True

    def statements(self, state: Invoice, domain_event: object, position: int) -> list[Statement]:
        if state.status is Status.DISCARDED:
            return [("DELETE FROM invoice_list WHERE id = %s", (state.id,))]
        totals = state.totals()
        row = (  # in the order of _COLUMNS
            state.id,
            state.tenant_id,
            position,
            state.customer_id,
            state.number,
            state.status.value,
            state.currency,
            state.issue_date,
            state.due_date,
            totals.subtotal,
            totals.tax_total,
            totals.total,
            state.amount_paid,
            state.amount_due,
            state.created_at,
            state.finalized_at,
            state.version,
        )
        return [(_UPSERT, row)]
