"""The customer: who invoices are addressed to."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.countries import check_country_fields
from ledger.domain.base import LedgerAggregate
from ledger.errors import StateConflict

# What an erased customer's name reads as, everywhere (email and address read as None).
ERASED = "[erased]"
PERSONAL_FIELDS = ("name", "email", "address")


class CustomerErased(StateConflict):
    """Raised when a command would use the personal data of an erased customer."""

    code = "customer_erased"


class Customer(LedgerAggregate):
    """A buyer of one tenant: business or consumer, with the data frozen into invoices."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Created")
    def __init__(self, tenant_id: UUID, profile: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.profile = dict(profile)

    @property
    def erased_on(self) -> date | None:
        # Customers from before erasure existed have no such attribute in their snapshots.
        return getattr(self, "_erased_on", None)

    def require_not_erased(self) -> None:
        if self.erased_on is not None:
            raise CustomerErased(
                f"customer {self.id} was erased on {self.erased_on.isoformat()}; "
                "it cannot be invoiced or changed"
            )

    def erase(self, on: date, retained_until: date | None) -> None:
        """Forget the customer's personal data: the key that seals it is destroyed with
        this event. `retained_until` records the end of the retention the tenant waived,
        if it had not ended yet (None when nothing was retained)."""
        self.require_not_erased()
        self._erased(on=on, retained_until=retained_until)

    @event("Erased")
    def _erased(self, on: date, retained_until: date | None) -> None:
        self.profile = {
            **self.profile,
            **{field: (ERASED if field == "name" else None) for field in PERSONAL_FIELDS},
        }
        self._erased_on = on

    def update(self, changes: dict[str, Any]) -> None:
        self.require_not_erased()
        changed = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        if changed:
            self._updated(changes=changed)

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        self.profile = {**self.profile, **changes}

    def buyer_snapshot(self) -> dict[str, Any]:
        """The buyer block frozen into a finalized invoice."""
        self.require_not_erased()
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
