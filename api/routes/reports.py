"""Accountants' tax reports: VAT return, EC sales list, OSS, GST — JSON or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from api.auth import Caller, Reporter
from api.commands import Command, json_response
from api.routes.common import json_object, jsonable, wait_for_projections
from ledger.errors import InvalidInput
from projections import tax_report_queries as queries
from projections.tax_reports import TaxReportsView

router = APIRouter(tags=["reports"])

From = Annotated[date, Query(alias="from", description="First day of the period")]
To = Annotated[date, Query(alias="to", description="Last day of the period")]
Accept = Annotated[str | None, Header(description="text/csv for CSV")]


def _report(
    request: Request,
    caller: Caller,
    cmd: Command,
    start: date,
    end: date,
    accept: str | None,
    query: Callable[[TaxReportsView, Any, date, date], dict[str, Any]],
) -> Response:
    if end < start or (end - start).days > 3 * 366:
        raise InvalidInput("the period must run forwards and span at most three years", field="to")
    wait_for_projections(request, "tax_reports")
    view: TaxReportsView = request.app.state.projectors.view("tax_reports")
    report = query(view, caller.tenant_id, start, end)
    currency = cmd.ledger.tenant(cmd.context(caller)).profile["currency"]
    if accept and "text/csv" in accept:
        return _csv(report)
    return json_response(
        200, json_object({"from": start, "to": end, "currency": currency, **report})
    )


@router.get("/reports/vat")
def vat_report(
    request: Request, caller: Reporter, cmd: Command, start: From, end: To, accept: Accept = None
) -> Any:
    """Output tax by country of taxation, category and rate, in the tenant's currency, with
    the zero-rated, exempt, reverse-charge, intra-community and export bases apart. Credit
    notes count (negative) in the period they are issued."""
    return _report(request, caller, cmd, start, end, accept, queries.vat_report)


@router.get("/reports/ec-sales-list")
def ec_sales_list(
    request: Request, caller: Reporter, cmd: Command, start: From, end: To, accept: Accept = None
) -> Any:
    """Intra-EU supplies to businesses per customer VAT id: goods and services."""
    return _report(request, caller, cmd, start, end, accept, queries.ec_sales_list_report)


@router.get("/reports/oss")
def oss_report(
    request: Request, caller: Reporter, cmd: Command, start: From, end: To, accept: Accept = None
) -> Any:
    """Union OSS: supplies taxed in other member states, per member state and rate."""
    return _report(request, caller, cmd, start, end, accept, queries.oss_report)


@router.get("/reports/gst")
def gst_report(
    request: Request, caller: Reporter, cmd: Command, start: From, end: To, accept: Accept = None
) -> Any:
    """GSTR-1 style buckets: B2B by GSTIN, B2C large, B2C small, exports, credit notes."""
    return _report(request, caller, cmd, start, end, accept, queries.gst_report)


def _csv(report: dict[str, Any]) -> Response:
    """Every list in the report as rows under a `section` column."""
    out = io.StringIO()
    writer = csv.writer(out)
    sections = {k: v for k, v in report.items() if isinstance(v, list)}
    columns: list[str] = []
    for rows in sections.values():
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    writer.writerow(["section", *columns])
    for name, rows in sections.items():
        for row in rows:
            plain = jsonable(row)
            writer.writerow([name, *(_cell(plain.get(c)) for c in columns)])
    for key, value in jsonable(report.get("totals", {})).items():
        writer.writerow(["totals", key, value])
    return Response(out.getvalue(), media_type="text/csv")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)
