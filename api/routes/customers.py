"""Customers: who invoices are addressed to."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator

from api.auth import Reader, Writer
from api.commands import Command, json_response
from api.pagination import Page, paged
from api.routes.common import (
    Address,
    CountryCode,
    Email,
    Locale,
    Strict,
    TaxId,
    Text,
    json_object,
    one_line,
    wait_for_projections,
)
from ledger.domain.customer import Customer
from projections.customer_list import CustomerListView

router = APIRouter(tags=["customers"])

Kind = Literal["business", "consumer"]
Region = Annotated[str, one_line(100)]


class CustomerIn(Strict):
    name: Text
    email: Email | None = None
    address: Address | None = None
    country: CountryCode
    region: Region | None = Field(default=None, description="State or province code")
    vat_id: TaxId | None = None
    kind: Kind = "business"
    locale: Locale | None = None


class CustomerPatch(Strict):
    name: Text | None = None
    email: Email | None = None
    address: Address | None = None
    country: CountryCode | None = None
    region: Region | None = None
    vat_id: TaxId | None = None
    kind: Kind | None = None
    locale: Locale | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> CustomerPatch:
        for name in self.model_fields_set & {"name", "country", "kind"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed")
        return self


class CustomerOut(BaseModel):
    id: UUID
    name: str
    email: str | None = None
    address: Address | None = None
    country: str
    region: str | None = None
    vat_id: str | None = None
    kind: Kind
    locale: str | None = None
    vat_id_status: str | None = Field(
        default=None,
        description="valid, invalid or missing (offline check); an invalid id means the "
        "customer is taxed as a consumer",
    )
    erased_on: date | None = Field(
        default=None,
        description="Set once the customer's name, email and address were erased: the name "
        'reads "[erased]", email and address null',
    )
    version: int
    created_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> dict[str, Any]:
        return cls(
            id=customer.id,
            version=customer.version,
            created_at=customer.created_on,
            erased_on=customer.erased_on,
            **customer.profile,
        ).model_dump(mode="json")


class CustomerSummary(BaseModel):
    id: UUID
    name: str
    email: str | None
    country: str
    kind: Kind
    vat_id: str | None
    created_at: datetime
    version: int


class CustomerPage(BaseModel):
    data: list[CustomerSummary]
    next_cursor: str | None


@router.post("/customers", status_code=201, response_model=CustomerOut)
def create_customer(body: CustomerIn, caller: Writer, cmd: Command) -> Any:
    profile = body.model_dump(mode="json")
    return cmd.run(
        caller, lambda ctx: cmd.ledger.create_customer(ctx, profile), CustomerOut.of, 201
    )


@router.get("/customers", response_model=CustomerPage)
def list_customers(request: Request, caller: Reader, page: Page) -> Any:
    wait_for_projections(request, "customer_list")
    view: CustomerListView = request.app.state.projectors.view("customer_list")
    rows = view.page(caller.tenant_id, page.limit + 1, page.before)
    return json_response(200, paged(rows, page, _summary))


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "email", "country", "kind", "vat_id", "created_at", "version")
    return json_object({k: row[k] for k in keys})


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def read_customer(customer_id: UUID, caller: Reader, cmd: Command) -> Any:
    return json_response(200, CustomerOut.of(cmd.ledger.customer(cmd.context(caller), customer_id)))


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
def update_customer(customer_id: UUID, body: CustomerPatch, caller: Writer, cmd: Command) -> Any:
    changes = body.model_dump(mode="json", exclude_unset=True)
    return cmd.run(
        caller, lambda ctx: cmd.ledger.update_customer(ctx, customer_id, changes), CustomerOut.of
    )
