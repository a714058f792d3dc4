"""The application recorder the Ledger runs on: every extension of the chained recorder.

Each extension hooks in after the insert, in the append's transaction, and calls the next
one; `ledger_env` (`projections/event_chain.py`) names this class.
"""

from __future__ import annotations

from projections.event_reads import BatchedReads
from projections.personal_keys import ErasingRecorder
from projections.usage_keys import UsageKeyClaims


class LedgerRecorder(UsageKeyClaims, ErasingRecorder, BatchedReads):
    """Links each event into its tenant's hash chain, destroys an erased customer's key and
    claims usage keys, all in the transaction that appends the events; reads several
    aggregates' new events in one query."""
