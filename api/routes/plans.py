"""The admin puts tenants on service plans: `PUT /v1/admin/tenants/{id}/plan`."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from api.auth import AdminToken
from api.commands import Command
from api.routes.common import Strict
from api.routes.tenants import TenantOut

router = APIRouter(tags=["tenants"])

Cap = Annotated[int, Field(ge=0, le=10**12)] | None


class LimitsIn(Strict):
    """Caps that replace the plan's for this tenant; null lifts a cap."""

    invoices_per_month: Cap = None
    api_keys: Cap = None
    usage_events_per_month: Cap = None


class PlanIn(Strict):
    plan: Literal["starter", "growth", "enterprise"]
    limits: LimitsIn | None = None


@router.put("/admin/tenants/{tenant_id}/plan", response_model=TenantOut)
def set_plan(tenant_id: UUID, body: PlanIn, _: AdminToken, cmd: Command) -> Any:
    """Put a tenant on a plan (needs `LEDGER_ADMIN_TOKEN`): its caps on finalized invoices
    and usage events per month (UTC) and on live API keys. A command past a cap is refused
    with 402 `plan_limit_exceeded` and records nothing."""
    overrides = body.limits.model_dump(exclude_unset=True) if body.limits else None
    return cmd.run(
        None,
        lambda ctx: cmd.ledger.set_plan(ctx, tenant_id, body.plan, overrides),
        TenantOut.of,
    )
