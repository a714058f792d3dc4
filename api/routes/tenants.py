"""The tenant, its sign-up, and its API keys."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, model_validator
from starlette.responses import Response

from api.auth import Administrator, AdminToken, Reader
from api.commands import Command, json_response
from api.routes.common import Address, CountryCode, CurrencyCode, Locale, Strict, TaxId, Text
from ledger.application import IssuedKey
from ledger.commands.tenants import MAX_LOGO_BYTES
from ledger.domain.api_key import ApiKey, Role
from ledger.domain.tenant import Tenant
from ledger.errors import InvalidInput, NotFound
from pdf import check_logo

router = APIRouter(tags=["tenants"])

Prefix = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,8}$", examples=["INV"])]
Region = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,3}$", examples=["27"])]


class Bank(Strict):
    """Where customers pay; printed on invoices."""

    iban: Annotated[str, Field(max_length=34, pattern=r"^[A-Z0-9 ]+$")] | None = None
    bic: Annotated[str, Field(max_length=11, pattern=r"^[A-Z0-9]+$")] | None = None
    bank_name: Annotated[str, Field(max_length=100)] | None = None


Terms = Annotated[int, Field(ge=0, le=365)]
RetentionYears = Annotated[
    int,
    Field(
        ge=1,
        le=30,
        description="Years finalized invoices and credit notes are kept after the end of "
        "the year they were issued in (e.g. 10 in Germany's old rule, 6 in the UK, 8 in India)",
    ),
]
EraseWithinRetention = Annotated[
    bool,
    Field(
        description="Erase a customer's personal data even while documents addressed to them "
        "are within retention (the tenant then keeps its own archive)"
    ),
]


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
    retention_years: RetentionYears = 10
    erase_within_retention: EraseWithinRetention = False


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
    retention_years: RetentionYears | None = None
    erase_within_retention: EraseWithinRetention | None = None

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
    retention_years: int = 10
    erase_within_retention: bool = False
    logo_sha256: str | None = Field(default=None, description="See PUT /v1/tenant/logo")
    plan: str | None = Field(default=None, description="The service plan; none: no caps")
    limits: dict[str, int | None] = Field(default={}, description="The plan's caps; null: none")
    version: int
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> dict[str, Any]:
        return cls(
            id=tenant.id,
            version=tenant.version,
            created_at=tenant.created_on,
            logo_sha256=tenant.logo_sha256,
            plan=tenant.plan,
            limits=tenant.limits,
            **tenant.profile,
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


async def _png_body(request: Request) -> bytes:
    if request.headers.get("content-type", "").split(";")[0].strip() != "image/png":
        raise InvalidInput("send the logo as the body with Content-Type: image/png")
    png = await request.body()
    if len(png) > MAX_LOGO_BYTES:
        raise InvalidInput(f"a logo is at most {MAX_LOGO_BYTES} bytes")
    try:
        check_logo(png)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return png


PngBody = Annotated[bytes, Depends(_png_body)]


@router.put(
    "/tenant/logo",
    response_model=TenantOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def set_logo(caller: Administrator, cmd: Command, png: PngBody) -> Any:
    """Set the logo shown on documents: a PNG of at most 256 KiB as the request body.
    Documents finalized before keep the logo they were finalized with."""
    return cmd.run(caller, lambda ctx: cmd.ledger.set_logo(ctx, png), TenantOut.of)


@router.delete("/tenant/logo", response_model=TenantOut)
def remove_logo(caller: Administrator, cmd: Command) -> Any:
    """Documents finalized from now on show no logo."""
    return cmd.run(caller, lambda ctx: cmd.ledger.set_logo(ctx, None), TenantOut.of)


@router.get(
    "/tenant/logo",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def read_logo(caller: Reader, cmd: Command) -> Response:
    tenant = cmd.ledger.tenant(cmd.context(caller))
    if tenant.logo_sha256 is None:
        raise NotFound("the tenant has no logo")
    png = base64.b64decode(tenant.logos[tenant.logo_sha256])
    return Response(png, 200, {"ETag": f'"{tenant.logo_sha256}"'}, media_type="image/png")


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
