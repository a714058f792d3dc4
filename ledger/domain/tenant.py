"""The tenant: a business that issues invoices, with its legal identity and numbering prefixes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.countries import check_country_fields
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidInput
from ledger.money import is_currency

TENANT_FIELDS = (
    "legal_name",
    "address",
    "country",
    "vat_id",
    "currency",
    "invoice_prefix",
    "credit_note_prefix",
    "payment_terms_days",
    "locale",
)


class Tenant(LedgerAggregate):
    """A business using the ledger. Its profile is frozen into each invoice it finalizes."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Registered")
    def __init__(self, profile: dict[str, Any]) -> None:
        self.tenant_id = self.id
        self.profile = dict(profile)
        self.logo_sha256: str | None = None
        # Every logo the tenant ever set, by digest: an old invoice shows the logo it was
        # finalized with, so that its PDF renders again to the same bytes.
        self.logos: dict[str, str] = {}

    def update(self, changes: dict[str, Any]) -> None:
        changed = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        if changed:
            self._updated(changes=changed)

    @event("Updated")
    def _updated(self, changes: dict[str, Any]) -> None:
        self.profile = {**self.profile, **changes}

    def set_logo(self, sha256: str | None, png_base64: str | None) -> None:
        """Show this PNG (base64) on documents from now on; None removes the logo."""
        if sha256 != self.logo_sha256:
            self._logo_set(sha256=sha256, png=None if sha256 in self.logos else png_base64)

    @event("LogoSet")
    def _logo_set(self, sha256: str | None, png: str | None) -> None:
        self.logo_sha256 = sha256
        if sha256 is not None and png is not None:
            self.logos[sha256] = png

    def set_plan(self, plan: str, limits: dict[str, int | None]) -> None:
        """Only the admin token reaches this: a tenant cannot raise its own caps."""
        if (plan, limits) != (self.plan, self.limits):
            self._plan_set(plan=plan, limits=limits)

    @event("PlanSet")
    def _plan_set(self, plan: str, limits: dict[str, int | None]) -> None:
        self.__dict__["service_plan"] = {"plan": plan, "limits": limits}

    # A tenant the admin has not put on a plan yet has none, and no caps. (Read from the
    # instance's dict: the aggregate is a dataclass, whose fields would change __init__.)
    @property
    def plan(self) -> str | None:
        chosen: dict[str, Any] = self.__dict__.get("service_plan") or {}
        return chosen.get("plan")

    @property
    def limits(self) -> dict[str, int | None]:
        chosen: dict[str, Any] = self.__dict__.get("service_plan") or {}
        return dict(chosen.get("limits") or {})

    def retained_until(self, last_document: date) -> date:
        """The last day documents issued on `last_document` must be kept: retention runs
        from the end of the year they were issued in (as the German, UK and Indian rules
        count it), for the tenant's `retention_years` (default 10)."""
        years = int(self.profile.get("retention_years") or 10)
        return date(last_document.year + years, 12, 31)

    @property
    def erases_within_retention(self) -> bool:
        return bool(self.profile.get("erase_within_retention"))

    def cap(self, limit: str) -> int | None:
        return self.limits.get(limit)

    def seller_snapshot(self) -> dict[str, Any]:
        """The seller block frozen into a finalized invoice."""
        p = self.profile
        return {
            "legal_name": p["legal_name"],
            "address": p["address"],
            "country": p["country"],
            "vat_id": p.get("vat_id"),
            "region": p.get("region") or (p.get("address") or {}).get("region"),
            "registration_number": p.get("registration_number"),
            "bank": p.get("bank"),
            "locale": p.get("locale"),
            "logo_sha256": self.logo_sha256,
        }


def check_tenant_profile(profile: dict[str, Any]) -> None:
    """Domain checks the request schema cannot make: real country and currency codes."""
    check_country_fields(profile)
    if "currency" in profile and not is_currency(profile["currency"]):
        raise InvalidInput(f"unknown currency {profile['currency']!r}", field="currency")
