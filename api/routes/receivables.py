"""What customers owe: statements with running balances, and aging as of any date."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from api.auth import Reader, Reporter
from api.commands import Command, json_response
from api.routes.common import json_object, wait_for_projections
from projections.receivables import BUCKETS, ReceivablesView, aging

router = APIRouter(tags=["receivables"])


class StatementLine(BaseModel):
    date: date
    kind: str
    document_id: UUID
    number: str | None
    amount: str
    balance: str


class CurrencyStatement(BaseModel):
    currency: str
    opening_balance: str
    lines: list[StatementLine]
    closing_balance: str
    credit_available: str
    refunds_owed: str


class Statement(BaseModel):
    customer_id: UUID
    from_date: date | None
    to_date: date | None
    statements: list[CurrencyStatement]


class AgingRow(BaseModel):
    customer_id: UUID
    currency: str
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str


class AgingReport(BaseModel):
    as_of: date
    rows: list[AgingRow]
    totals: dict[str, dict[str, str]]


@router.get("/customers/{customer_id}/statement", response_model=Statement)
def customer_statement(
    request: Request,
    customer_id: UUID,
    caller: Reader,
    cmd: Command,
    from_date: Annotated[date | None, Query(alias="from")] = None,
    to_date: Annotated[date | None, Query(alias="to")] = None,
) -> Any:
    """Every invoice, credit note, payment and refund of the customer, by date, with the
    running balance (+ the customer owes more). Closing balance = invoices - credits -
    payments + refunds."""
    wait_for_projections(request, "receivables")
    account = cmd.ledger.customer_account(cmd.context(caller), customer_id)
    view: ReceivablesView = request.app.state.projectors.view("receivables")
    statements = []
    for currency in view.currencies(caller.tenant_id, customer_id):
        rows = view.statement_lines(caller.tenant_id, customer_id, currency)
        opening = sum(
            (r["amount"] for r in rows if from_date and r["effective_date"] < from_date),
            Decimal(0),
        )
        balance, lines = opening, []
        for row in rows:
            on = row["effective_date"]
            if (from_date and on < from_date) or (to_date and on > to_date):
                continue
            balance += row["amount"]
            lines.append(
                {
                    "date": on,
                    "kind": row["kind"],
                    "document_id": row["document_id"],
                    "number": row["number"],
                    "amount": row["amount"],
                    "balance": balance,
                }
            )
        statements.append(
            {
                "currency": currency,
                "opening_balance": opening,
                "lines": lines,
                "closing_balance": balance,
                "credit_available": account.credit_in(currency),
                "refunds_owed": account.refunds_owed.get(currency, Decimal(0)),
            }
        )
    return json_response(
        200,
        json_object(
            {
                "customer_id": customer_id,
                "from_date": from_date,
                "to_date": to_date,
                "statements": statements,
            }
        ),
    )


@router.get(
    "/reports/aging",
    response_model=AgingReport,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def aging_report(
    request: Request,
    caller: Reporter,
    as_of: Annotated[date | None, Query(description="Default: today (UTC)")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Open amounts per customer and currency, in buckets of days past due, as of a date
    (movements dated after it are left out, so a past date shows the picture then)."""
    wait_for_projections(request, "receivables")
    day = as_of or datetime.now(UTC).date()
    view: ReceivablesView = request.app.state.projectors.view("receivables")
    report = aging(view.open_invoices(caller.tenant_id, day), day)
    if accept and "text/csv" in accept:
        return _csv(report)
    return json_response(200, json_object({"as_of": day, **report}))


def _csv(report: dict[str, Any]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["customer_id", "currency", *BUCKETS, "total"])
    for row in report["rows"]:
        writer.writerow(
            [row["customer_id"], row["currency"], *(row[b] for b in BUCKETS), row["total"]]
        )
    for currency, amounts in report["totals"].items():
        writer.writerow(["TOTAL", currency, *(amounts[b] for b in BUCKETS), amounts["total"]])
    return Response(out.getvalue(), media_type="text/csv")
