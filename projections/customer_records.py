"""What the read models know about one customer: the documents addressed to them."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore


class CustomerRecords:
    """Queries over `invoice_list` and `credit_note_list` by customer."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore

    def last_document_date(self, tenant_id: UUID, customer_id: UUID) -> date | None:
        """The latest issue date of a finalized invoice or credit note to the customer: their
        retention runs from the end of its year."""
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT max(d) AS last FROM ("
                " SELECT max(issue_date) AS d FROM invoice_list"
                "  WHERE tenant_id = %(t)s AND customer_id = %(c)s AND issue_date IS NOT NULL"
                " UNION ALL SELECT max(issue_date) FROM credit_note_list"
                "  WHERE tenant_id = %(t)s AND customer_id = %(c)s) AS dates",
                {"t": tenant_id, "c": customer_id},
            )
            row = curs.fetchone()
        return row["last"] if row else None

    def invoice_ids(self, tenant_id: UUID, customer_id: UUID) -> list[UUID]:
        return self._ids("invoice_list", tenant_id, customer_id)

    def credit_note_ids(self, tenant_id: UUID, customer_id: UUID) -> list[UUID]:
        return self._ids("credit_note_list", tenant_id, customer_id)

    def _ids(self, table: str, tenant_id: UUID, customer_id: UUID) -> list[UUID]:
        assert table in ("invoice_list", "credit_note_list")
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT id FROM {table} WHERE tenant_id = %s AND customer_id = %s"  # noqa: S608
                " ORDER BY position",
                (tenant_id, customer_id),
            )
            return [row["id"] for row in curs.fetchall()]
