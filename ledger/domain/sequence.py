"""Gapless document numbering: one Sequence per (tenant, series, year)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import StateConflict

_SEQUENCE_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/sequence")


class IssueDateBeforeLastNumber(StateConflict):
    """Raised when a document would be numbered after one with a later issue date."""

    code = "issue_date_out_of_sequence"


class Sequence(LedgerAggregate):
    """Issues consecutive numbers. Saved atomically with the numbered document's event,
    so a number exists exactly when its document does; concurrent issuers conflict."""

    @staticmethod
    @lru_cache(maxsize=65536)  # a uuid5 is a SHA-1 and a UUID: asked several times a command
    def create_id(tenant_id: UUID, series: str, year: int) -> UUID:
        return uuid5(_SEQUENCE_NAMESPACE, f"{tenant_id}/{series}/{year}")

    @event("Started")
    def __init__(self, tenant_id: UUID, series: str, year: int) -> None:
        self.tenant_id = tenant_id
        self.series = series
        self.year = year
        self.last = 0
        self.last_issue_date: date | None = None
        # Numbers issued per month ("2026-03"): what the plan's monthly cap counts, exactly,
        # as it is saved with the documents. (A snapshot from before it has none.)
        self.issued_by_month: dict[str, int] = {}

    def next_number(self, prefix: str, issue_date: date) -> str:
        """The number `issue` will give a document of that date, or the refusal."""
        if issue_date.year != self.year:
            raise ValueError("issue date outside the sequence's year")
        if self.last_issue_date is not None and issue_date < self.last_issue_date:
            raise IssueDateBeforeLastNumber(
                f"issue date {issue_date} is before {self.last_issue_date}, the date of the "
                "last numbered document of this series; numbers must follow dates",
                last_issue_date=self.last_issue_date.isoformat(),
            )
        return f"{prefix}-{self.year}-{self.last + 1:06d}"

    def issue(self, document_id: UUID, prefix: str, issue_date: date) -> str:
        number = self.next_number(prefix, issue_date)
        self._number_issued(
            number=number,
            sequence_number=self.last + 1,
            document_id=document_id,
            issue_date=issue_date,
        )
        return number

    @event("NumberIssued")
    def _number_issued(
        self, number: str, sequence_number: int, document_id: UUID, issue_date: date
    ) -> None:
        self.last = sequence_number
        self.last_issue_date = issue_date
        counts = getattr(self, "issued_by_month", {})
        month = _month(issue_date)
        self.issued_by_month = {**counts, month: counts.get(month, 0) + 1}

    def issued_in_month_of(self, day: date) -> int:
        counts: dict[str, int] = getattr(self, "issued_by_month", {})
        return counts.get(_month(day), 0)


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
