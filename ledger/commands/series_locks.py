"""Numbering across processes: the series a batch numbers are held while it saves.

Within one process the group commit already numbers one batch at a time. Several processes
(`ledger serve --workers N`) each have a group commit of their own, and two batches that
number the same series from the same Sequence version cannot both be saved: the loser
decides all its commands again. Under load almost every other batch lost that race. A
lock per series, taken before the Sequence is read and released after the save, makes the
processes take turns instead; the Sequence's version check still guards the numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

# The environment variable naming the class of the locks (called with the recorder).
SERIES_LOCKS_TOPIC = "SERIES_LOCKS_TOPIC"


class SeriesLocks(Protocol):
    def holding(
        self, series_ids: Sequence[UUID], read: Sequence[tuple[UUID, int]] = ()
    ) -> AbstractContextManager[list[StoredEvent] | None]:
        """Hold every series of `series_ids` (none: hold nothing) until the block ends, or
        until the block's append commits. Gives the events after each (id, version) of
        `read`, read once the locks are held; None when it did not read them."""
        ...


class ProcessSeriesLocks:
    """For a store only this process writes to: the group commit's turns are enough."""

    def holding(
        self, series_ids: Sequence[UUID], read: Sequence[tuple[UUID, int]] = ()
    ) -> AbstractContextManager[list[StoredEvent] | None]:
        return contextlib.nullcontext()
