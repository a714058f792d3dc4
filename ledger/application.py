"""The Ledger application: one method per command, each saving its aggregates atomically.

The commands live in `ledger/commands/`, one module per area; this class composes them.
"""

from __future__ import annotations

from ledger.commands.base import Outcome, Replayed
from ledger.commands.billing_runs import BillingRunCommands
from ledger.commands.erasure import ErasureCommands
from ledger.commands.tenants import IssuedKey, Registration
from ledger.domain.invoice import Invoice
from ledger.domain.sequence import Sequence

__all__ = ["IssuedKey", "Ledger", "Outcome", "Registration", "Replayed"]


class Ledger(BillingRunCommands, ErasureCommands):
    """Commands and aggregate reads of the invoicing ledger."""

    name = "Ledger"
    snapshotting_intervals = {Sequence: 200, Invoice: 200}
    env = {"AGGREGATE_CACHE_MAXSIZE": "20000"}
