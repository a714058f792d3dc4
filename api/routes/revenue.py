"""The revenue report: MRR and ARR per month and currency, and what moved them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from api.auth import Reporter
from api.commands import json_response
from api.routes.common import json_object, jsonable, wait_for_projections
from api.routes.subscriptions import SaneDate
from ledger.billing import add_months
from ledger.commands.subscriptions import today
from ledger.errors import InvalidInput
from projections.revenue import revenue_report

router = APIRouter(tags=["reports"])

MAX_MONTHS = 120
COLUMNS = (
    "month",
    "currency",
    "mrr_start",
    "new",
    "expansion",
    "contraction",
    "churned",
    "mrr",
    "arr",
    "subscriptions",
)


@router.get("/reports/revenue")
def revenue(
    request: Request,
    caller: Reporter,
    start: Annotated[
        SaneDate | None, Query(alias="from", description="Default: 11 months earlier")
    ] = None,
    end: Annotated[SaneDate | None, Query(alias="to", description="Default: today (UTC)")] = None,
    accept: Annotated[str | None, Header(description="text/csv for CSV")] = None,
) -> Any:
    """Monthly recurring revenue of the active subscriptions per month of the range (the
    months holding `from` to `to`) and currency: MRR at the month's start and end, ARR (12 x
    MRR), and the month's new, expansion (upgrades, resumes), contraction (downgrades,
    pauses) and churned (cancellations) MRR. A yearly plan counts a twelfth of its amount a
    month; trials count nothing. Amounts are rounded to the currency's minor unit."""
    last = (end or today()).replace(day=1)
    first = start.replace(day=1) if start else add_months(last, -11)
    if last < first:
        raise InvalidInput("`to` is before `from`", field="to")
    if add_months(first, MAX_MONTHS) <= last:
        raise InvalidInput(f"the range spans at most {MAX_MONTHS} months", field="to")
    wait_for_projections(request, "revenue")
    view = request.app.state.projectors.view("revenue")
    report = revenue_report(view.monthly(caller.tenant_id, first, last))
    if accept and "text/csv" in accept:
        return _csv(report["data"])
    body = {"from": first, "to": add_months(last, 1) - timedelta(days=1), **report}
    return json_response(200, json_object(body))


def _csv(rows: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in jsonable(rows):
        writer.writerow([row[column] for column in COLUMNS])
    return Response(out.getvalue(), media_type="text/csv")
