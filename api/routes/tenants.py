"""The tenant, its sign-up, and its API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from api.auth import Administrator, AdminToken, Reader
from api.commands import Command, json_response
from api.routes.common import Address, CountryCode, CurrencyCode, Locale, Strict, TaxId, Text
from ledger.application import IssuedKey
from ledger.domain.api_key import ApiKey, Role
from ledger.domain.tenant import Tenant

router = APIRouter(tags=["tenants"])

Prefix = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,8}$", examples=["INV"])]
Region = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,3}$", examples=["27"])]


class Bank(Strict):
    """Where customers pay; printed on invoices."""

    iban: Annotated[str, Field(max_length=34, pattern=r"^[A-Z0-9 ]+$")] | None = None
    bic: Annotated[str, Field(max_length=11, pattern=r"^[A-Z0-9]+$")] | None = None
    bank_name: Annotated[str, Field(max_length=100)] | None = None


Terms = Annotated[int, Field(ge=0, le=365)]


class TenantIn(Strict):
    legal_name: Text
    address: Address
    country: CountryCode
    vat_id: TaxId | None = None
    currency: CurrencyCode
    invoice_prefix: Prefix = "INV"
    credit_note_prefix: Prefix = "CN"
    payment_terms_days: Terms = 14
    locale: Locale = "en"
    region: Region | None = Field(
        default=None, description='State code where it matters for tax (India: "27")'
    )
    oss_registered: bool = Field(
        default=False, description="Opted into the EU One-Stop Shop (destination VAT)"
    )
    allow_tax_rate_override: bool = Field(
        default=False, description="Lines may carry a tax_rate of their own, kept as given"
    )
    registration_number: Annotated[str, Field(max_length=64)] | None = None
    bank: Bank | None = None


class TenantPatch(Strict):
    legal_name: Text | None = None
    address: Address | None = None
    country: CountryCode | None = None
    vat_id: TaxId | None = None
    currency: CurrencyCode | None = None
    invoice_prefix: Prefix | None = None
    credit_note_prefix: Prefix | None = None
    payment_terms_days: Terms | None = None
    locale: Locale | None = None
    region: Region | None = None
    oss_registered: bool | None = None
    allow_tax_rate_override: bool | None = None
    registration_number: Annotated[str, Field(max_length=64)] | None = None
    bank: Bank | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> TenantPatch:
        for name in self.model_fields_set - {"vat_id", "region", "registration_number", "bank"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed")
        return self


class TenantOut(BaseModel):
    id: UUID
    legal_name: str
    address: Address
    country: str
    vat_id: str | None
    currency: str
    invoice_prefix: str
    credit_note_prefix: str
    payment_terms_days: int
    locale: str
    region: str | None = None
    oss_registered: bool = False
    allow_tax_rate_override: bool = False
    registration_number: str | None = None
    bank: Bank | None = None
    version: int
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> dict[str, Any]:
        return cls(
            id=tenant.id, version=tenant.version, created_at=tenant.created_on, **tenant.profile
        ).model_dump(mode="json")


class ApiKeyIn(Strict):
    name: Text
    role: Role


class ApiKeyOut(BaseModel):
    id: UUID
    name: str
    role: Role
    revoked: bool
    created_at: datetime
    version: int
    key: str | None = Field(
        default=None, description="The secret, shown once at creation and never again."
    )

    @classmethod
    def of(cls, key: ApiKey, secret: str | None = None) -> dict[str, Any]:
        return cls(
            id=key.id,
            name=key.name,
            role=key.role,
            revoked=key.revoked,
            created_at=key.created_on,
            version=key.version,
            key=secret,
        ).model_dump(mode="json")


class SignUpOut(BaseModel):
    tenant: TenantOut
    api_key: ApiKeyOut


def _without_secret(body: dict[str, Any]) -> dict[str, Any]:
    if "api_key" in body:
        return {**body, "api_key": {**body["api_key"], "key": None}}
    return {**body, "key": None}


@router.post("/tenants", status_code=201, response_model=SignUpOut)
def sign_up(body: TenantIn, _: AdminToken, cmd: Command) -> Any:
    """Create a tenant and its first owner key (needs `LEDGER_ADMIN_TOKEN`).

    A replay with the same Idempotency-Key returns the same body without the key's secret,
    which is never stored."""
    return cmd.run(
        None,
        lambda ctx: cmd.ledger.register_tenant(ctx, body.model_dump(mode="json")),
        lambda r: {
            "tenant": TenantOut.of(r.tenant),
            "api_key": ApiKeyOut.of(r.owner_key.key, r.owner_key.secret),
        },
        status=201,
        redact=_without_secret,
    )


@router.get("/tenant", response_model=TenantOut)
def read_tenant(caller: Reader, cmd: Command) -> Any:
    return json_response(200, TenantOut.of(cmd.ledger.tenant(cmd.context(caller))))


@router.patch("/tenant", response_model=TenantOut)
def update_tenant(body: TenantPatch, caller: Administrator, cmd: Command) -> Any:
    changes = body.model_dump(mode="json", exclude_unset=True)
    return cmd.run(caller, lambda ctx: cmd.ledger.update_tenant(ctx, changes), TenantOut.of)


@router.post("/api-keys", status_code=201, response_model=ApiKeyOut)
def issue_api_key(body: ApiKeyIn, caller: Administrator, cmd: Command) -> Any:
    """Issue a key; its secret is in this response only."""

    def render(issued: IssuedKey) -> dict[str, Any]:
        return ApiKeyOut.of(issued.key, issued.secret)

    return cmd.run(
        caller,
        lambda ctx: cmd.ledger.issue_api_key(ctx, body.name, body.role),
        render,
        status=201,
        redact=_without_secret,
    )


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(key_id: UUID, caller: Administrator, cmd: Command) -> Any:
    return cmd.run(caller, lambda ctx: cmd.ledger.revoke_api_key(ctx, key_id), ApiKeyOut.of)
