"""The customer: who invoices are addressed to."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.countries import check_country_fields
from ledger.domain.base import LedgerAggregate


class Customer(LedgerAggregate):
    """A buyer of one tenant: business or consumer, with the data frozen into invoices."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Created")
    def __init__(self, tenant_id: UUID, profile: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.profile = dict(profile)

    def update(self, changes: dict[str, Any]) -> None:
        changed = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        if changed:
            self._updated(changes=changed)

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        self.profile = {**self.profile, **changes}

    def buyer_snapshot(self) -> dict[str, Any]:
        """The buyer block frozen into a finalized invoice."""
        p = self.profile
        return {
            "customer_id": str(self.id),
            "name": p["name"],
            "address": p.get("address"),
            "country": p["country"],
            "region": p.get("region"),
            "vat_id": p.get("vat_id"),
            "vat_id_status": p.get("vat_id_status"),
            "kind": p["kind"],
            "locale": p.get("locale"),
        }


def check_customer_profile(profile: dict[str, Any]) -> None:
    """Domain checks the request schema cannot make: real country codes."""
    check_country_fields(profile)
