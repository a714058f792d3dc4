"""usage_counters and documents_issued: metered usage per period, documents per month."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain.credit_note import CreditNote
from ledger.domain.invoice import Invoice
from ledger.domain.usage import Meter
from projections.state import StateProjection
from projections.view import Statement, View

_COUNTER = (
    "INSERT INTO usage_counters (meter_id, metric, tenant_id, subscription_id, period_start,"
    " total, events, maximum, distinct_values)"
    " VALUES (%(meter_id)s, %(metric)s, %(tenant_id)s, %(subscription_id)s, %(period_start)s,"
    " %(total)s, %(events)s, %(maximum)s, %(distinct_values)s)"
    " ON CONFLICT (meter_id, metric) DO UPDATE SET total = EXCLUDED.total,"
    " events = EXCLUDED.events, maximum = EXCLUDED.maximum,"
    " distinct_values = EXCLUDED.distinct_values"
)
_DOCUMENT = (
    "INSERT INTO documents_issued (document_id, tenant_id, kind, issue_date)"
    " VALUES (%s, %s, %s, %s) ON CONFLICT (document_id) DO NOTHING"
)


class UsageView(View):
    """The `usage_counters` and `documents_issued` tables."""

    tables = ("usage_counters", "documents_issued")

    def counters(self, tenant_id: UUID, start: date, end: date) -> list[dict[str, Any]]:
        """Counters of the periods that start within [start, end]."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT subscription_id, metric, period_start, total, events, maximum,"
                " distinct_values FROM usage_counters WHERE tenant_id = %s"
                " AND period_start BETWEEN %s AND %s"
                " ORDER BY period_start, subscription_id, metric",
                (tenant_id, start, end),
            )
            return list(curs.fetchall())

    def documents_per_month(self, tenant_id: UUID, start: date, end: date) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_char(issue_date, 'YYYY-MM') AS month, kind, count(*) AS documents"
                " FROM documents_issued WHERE tenant_id = %s AND issue_date BETWEEN %s AND %s"
                " GROUP BY 1, 2 ORDER BY 1, 2",
                (tenant_id, start, end),
            )
            return list(curs.fetchall())


class UsageCounters(StateProjection[UsageView]):
    """Keeps the usage counters in step with every Meter, and notes each numbered document."""

    name = "usage_counters"
    aggregate_classes = (Meter, Invoice, CreditNote)

    def statements(self, state: Any, domain_event: object, position: int) -> list[Statement]:
        if isinstance(state, Meter):
            return [(_COUNTER, _counter(state, metric)) for metric in sorted(state.tallies)]
        if isinstance(domain_event, Invoice.Finalized):
            return [(_DOCUMENT, (state.id, state.tenant_id, "invoice", domain_event.issue_date))]
        if isinstance(state, CreditNote) and state.version == 1:
            return [(_DOCUMENT, (state.id, state.tenant_id, "credit_note", state.issue_date))]
        return []


def _counter(meter: Meter, metric: str) -> dict[str, Any]:
    tally = meter.tally(metric)
    return {
        "meter_id": meter.id,
        "metric": metric,
        "tenant_id": meter.tenant_id,
        "subscription_id": meter.subscription_id,
        "period_start": meter.period_start,
        "total": tally.total,
        "events": tally.count,
        "maximum": tally.maximum,
        "distinct_values": len(tally.values),
    }
