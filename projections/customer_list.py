"""customer_list: one row per customer, for listing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.domain.customer import Customer
from projections.state import StateProjection
from projections.view import Statement, View

_UPSERT = (
    "INSERT INTO customer_list"
    " (id, tenant_id, position, name, email, country, kind, vat_id, created_at, version)"
    " VALUES (%(id)s, %(tenant_id)s, %(position)s, %(name)s, %(email)s, %(country)s,"
    " %(kind)s, %(vat_id)s, %(created_at)s, %(version)s)"
    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,"
    " country = EXCLUDED.country, kind = EXCLUDED.kind, vat_id = EXCLUDED.vat_id,"
    " version = EXCLUDED.version"
)


class CustomerListView(View):
    """The `customer_list` table."""

    tables = ("customer_list",)

    def page(self, tenant_id: UUID, limit: int, before: int | None) -> list[dict[str, Any]]:
        """Newest first; `before` is the position the previous page ended at."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT * FROM customer_list WHERE tenant_id = %s"
                " AND (%s::bigint IS NULL OR position < %s)"
                " ORDER BY position DESC LIMIT %s",
                (tenant_id, before, before, limit),
            )
            return list(curs.fetchall())


class CustomerListing(StateProjection[CustomerListView]):
    """Keeps `customer_list` in step with every customer's profile."""

    name = "customer_list"
    aggregate_classes = (Customer,)
    supersedes = True

    def statements(self, state: Customer, domain_event: object, position: int) -> list[Statement]:
        p = state.profile
        row = {
            "id": state.id,
            "tenant_id": state.tenant_id,
            "position": position,
            "name": p["name"],
            "email": p.get("email"),
            "country": p["country"],
            "kind": p["kind"],
            "vat_id": p.get("vat_id"),
            "created_at": state.created_on,
            "version": state.version,
        }
        return [(_UPSERT, row)]
