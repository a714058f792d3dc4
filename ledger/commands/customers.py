"""Commands on customers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.commands.base import LedgerBase, Outcome
from ledger.context import CommandContext
from ledger.domain.customer import Customer, check_customer_profile
from ledger.tax import check_tax_id


class CustomerCommands(LedgerBase):
    def create_customer(self, ctx: CommandContext, profile: dict[str, Any]) -> Customer:
        check_customer_profile(profile)

        def attempt() -> Outcome[Customer]:
            assert ctx.tenant_id is not None
            customer = Customer(tenant_id=ctx.tenant_id, profile=with_tax_id_check(profile))
            return Outcome(customer, [customer])

        return self._execute(ctx, attempt)

    def customer(self, ctx: CommandContext, customer_id: UUID) -> Customer:
        return self._load(ctx, Customer, customer_id)

    def update_customer(
        self, ctx: CommandContext, customer_id: UUID, changes: dict[str, Any]
    ) -> Customer:
        check_customer_profile(changes)

        def attempt() -> Outcome[Customer]:
            customer = self._load_for_change(ctx, Customer, customer_id)
            checked = with_tax_id_check({**customer.profile, **changes})
            customer.update(
                {**changes, "vat_id": checked["vat_id"], "vat_id_status": checked["vat_id_status"]}
            )
            return Outcome(customer, [customer])

        return self._execute(ctx, attempt)


def with_tax_id_check(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile with its VAT/GST id in compact form and the offline check's verdict, so
    invoices and responses can say when an id is invalid (the buyer is then a consumer)."""
    check = check_tax_id(profile["country"], profile.get("vat_id"))
    return {
        **profile,
        "vat_id": check.number if check.is_valid else profile.get("vat_id"),
        "vat_id_status": check.status.value,
    }
